//! The policy simulator: SimulatePrincipalPolicy (a user's, group's or role's policies, plus
//! any in `PolicyInputList`) and SimulateCustomPolicy (only the documents given), answered by
//! `lambent_aws::iam::evaluate` for every action and resource asked about.

use super::xml::Xml;
use super::{validate, Call, IamApiError, Outcome};
use lambent_aws::iam::{
    evaluate, Context, Decision, Policy, PolicyKind, PolicySet, Principal, PrincipalKind, Request,
    SizeLimit, Source,
};
use lambent_store::iam::{EntityKind, PolicySource};

/// A document taking part, with the id and type the results report.
struct Input {
    id: String,
    kind: &'static str,
    policy: Policy,
}

fn parse(text: &str, id: String, kind: &'static str) -> Result<Input, IamApiError> {
    let policy = Policy::parse(text, PolicyKind::Identity, &SizeLimit::None)?;
    Ok(Input { id, kind, policy })
}

/// `PolicyInputList.member.N`, reported as `PolicyInputList.N`.
fn input_list(call: &Call<'_>, member: &str) -> Result<Vec<Input>, IamApiError> {
    call.query
        .list(member)?
        .iter()
        .enumerate()
        .map(|(i, text)| parse(text, format!("{member}.{}", i + 1), "none"))
        .collect()
}

/// `ContextEntries.member.N.{ContextKeyName,ContextKeyValues.member.M,ContextKeyType}`.
fn context(call: &Call<'_>) -> Result<Context, IamApiError> {
    let mut ctx = Context::new();
    for entry in call.query.structs("ContextEntries")? {
        let Some(key) = entry.field("ContextKeyName") else {
            continue;
        };
        let values = entry.list("ContextKeyValues")?;
        let many = entry
            .field("ContextKeyType")
            .is_some_and(|t| t.ends_with("List"));
        if many || values.len() != 1 {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            ctx.insert_many(key, &refs);
        } else {
            ctx.insert(key, &values[0]);
        }
    }
    Ok(ctx)
}

fn actions(call: &Call<'_>) -> Result<Vec<String>, IamApiError> {
    let actions = call.query.list("ActionNames")?;
    if actions.is_empty() {
        return Err(IamApiError::validation(
            "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null",
        ));
    }
    if let Some(bad) = actions.iter().find(|a| !a.contains(':')) {
        return Err(IamApiError::invalid_input(format!(
            "Actions must be of the form service:action, not {bad}"
        )));
    }
    Ok(actions)
}

/// Evaluates every (action, resource) pair and renders `EvaluationResults`.
fn results(
    call: &Call<'_>,
    principal: &Principal,
    inputs: &[Input],
    boundary: Option<&Input>,
) -> Outcome {
    let actions = actions(call)?;
    let mut resources = call.query.list("ResourceArns")?;
    if resources.is_empty() {
        resources.push("*".to_string());
    }
    let ctx = context(call)?;
    let set = PolicySet {
        identity: inputs
            .iter()
            .map(|i| Source {
                id: &i.id,
                policy: &i.policy,
            })
            .collect(),
        resource: None,
        boundary: boundary.map(|b| Source {
            id: &b.id,
            policy: &b.policy,
        }),
        session: Vec::new(),
    };
    let kind_of = |id: &str| {
        inputs
            .iter()
            .chain(boundary)
            .find(|i| i.id == id)
            .map_or("none", |i| i.kind)
    };
    let mut evaluated: Vec<(&str, &str, Decision)> = Vec::new();
    for action in &actions {
        for resource in &resources {
            let req = Request {
                principal,
                action,
                resource,
                resource_account: None,
                context: &ctx,
            };
            evaluated.push((action, resource, evaluate(&set, &req)));
        }
    }
    let mut x = Xml::new();
    x.members(
        "EvaluationResults",
        &evaluated,
        |x, (action, resource, d)| {
            x.text("EvalActionName", action)
                .text("EvalResourceName", resource)
                .text("EvalDecision", d.eval_decision());
            x.members("MatchedStatements", &d.matched, |x, m| {
                x.text("SourcePolicyId", &m.policy_id)
                    .text("SourcePolicyType", kind_of(&m.policy_id));
            });
            x.open("MissingContextValues").close("MissingContextValues");
        },
    );
    x.paging(None);
    Ok(Some(x))
}

pub fn custom(call: &Call<'_>) -> Outcome {
    let inputs = input_list(call, "PolicyInputList")?;
    if inputs.is_empty() {
        return Err(IamApiError::validation(
            "1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null",
        ));
    }
    let boundaries = input_list(call, "PermissionsBoundaryPolicyInputList")?;
    let account = call.store.account();
    let arn = call
        .query
        .get("CallerArn")
        .map(str::to_string)
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/simulated"));
    let principal = Principal::new(PrincipalKind::User, &arn, account);
    results(call, &principal, &inputs, boundaries.first())
}

fn source_input(source: &PolicySource, document: &str) -> Result<Input, IamApiError> {
    let (id, kind) = match source {
        PolicySource::Inline {
            owner_kind, name, ..
        } => (
            name.clone(),
            match owner_kind {
                EntityKind::User => "user",
                EntityKind::Group => "group",
                _ => "role",
            },
        ),
        PolicySource::Managed { arn, .. } => (
            arn.rsplit('/').next().unwrap_or(arn).to_string(),
            if arn.starts_with("arn:aws:iam::aws:") {
                "aws-managed"
            } else {
                "user-managed"
            },
        ),
        PolicySource::MissingBoundary { arn } => (arn.clone(), "none"),
    };
    parse(document, id, kind)
}

pub fn principal(call: &Call<'_>) -> Outcome {
    let source = call.query.required("PolicySourceArn")?;
    validate::policy_arn(source)?;
    let account = call.store.account();
    let rest = source
        .strip_prefix(&format!("arn:aws:iam::{account}:"))
        .ok_or_else(|| IamApiError::invalid_input(format!("Invalid Entity Arn: {source}")))?;
    let name = rest.rsplit('/').next().unwrap_or("");
    let mut inputs = Vec::new();
    let mut boundary = None;
    let principal = if rest.starts_with("user/") || rest.starts_with("role/") {
        let is_user = rest.starts_with("user/");
        let who = if is_user {
            lambent_store::iam::Principal::User(name)
        } else {
            lambent_store::iam::Principal::Role(name)
        };
        let found = call.store.policies_for(who)?;
        for p in &found.identity {
            inputs.push(source_input(&p.source, &p.document)?);
        }
        if let Some(b) = &found.boundary {
            boundary = Some(source_input(&b.source, &b.document)?);
        }
        let mut p = Principal::new(
            if is_user {
                PrincipalKind::User
            } else {
                PrincipalKind::AssumedRole
            },
            &found.arn,
            account,
        );
        p.user_id = found.id.clone();
        if is_user {
            p.username = Some(name.to_string());
        } else {
            p.role_arn = Some(found.arn.clone());
        }
        p.tags = found
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        p
    } else if rest.starts_with("group/") {
        let group = call.store.group(name)?;
        let all = lambent_store::iam::Paging::first(1000);
        for policy in call
            .store
            .list_inline_policies(EntityKind::Group, name, &all)?
            .items
        {
            let (_, text) = call.store.inline_policy(EntityKind::Group, name, &policy)?;
            inputs.push(parse(&text, policy, "group")?);
        }
        for attached in call
            .store
            .list_attached_policies(EntityKind::Group, name, None, &all)?
            .items
        {
            let managed = call.store.policy(&attached.arn)?;
            let version = call
                .store
                .policy_version(&attached.arn, &managed.default_version)?;
            let source = PolicySource::Managed {
                arn: attached.arn.clone(),
                version: managed.default_version.clone(),
            };
            inputs.push(source_input(&source, &version.document)?);
        }
        Principal::new(PrincipalKind::User, &group.arn, account)
    } else {
        return Err(IamApiError::invalid_input(format!(
            "Invalid Entity Arn: {source}"
        )));
    };
    inputs.extend(input_list(call, "PolicyInputList")?);
    results(call, &principal, &inputs, boundary.as_ref())
}
