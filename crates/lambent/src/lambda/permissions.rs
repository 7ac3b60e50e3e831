//! AddPermission, RemovePermission and GetPolicy: a function's resource-based policy, one per
//! qualifier (the unqualified function, a version or an alias), and the accessor the
//! authorizer reads it through.
//!
//! The statements are typed (`lambent_aws::lambda::permission`) so the document GetPolicy
//! returns has AWS's key order; publishing a version copies no policy, and deleting a
//! version, an alias or the function deletes its policy with it.

use super::event_invoke::qualifier_violations;
use super::{revision_id, ApiRequest, ApiResponse, Control};
use crate::auth::{self, Caller, RequestFacts};
use lambent_aws::iam::Policy;
use lambent_aws::lambda::permission::{
    ArnLike, PermissionCondition, PermissionPrincipal, PermissionStatement, ResourcePolicy,
    StringEquals, MAX_POLICY_LEN,
};
use lambent_aws::lambda::validate::Violations;
use lambent_aws::lambda::LambdaError;
use lambent_store::FunctionRecord;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The key of the unqualified function's policy.
const LATEST: &str = "$LATEST";
const STATEMENT_ID_PATTERN: &str = "([a-zA-Z0-9-_]+)";
const ACTION_PATTERN: &str = "(lambda:[*]|lambda:[a-zA-Z]+|[*])";
const SOURCE_ACCOUNT_PATTERN: &str = r"\d{12}";

/// AddPermission's body as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionInput {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub event_source_token: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    pub principal_org_id: Option<String>,
    pub function_url_auth_type: Option<String>,
    pub revision_id: Option<String>,
}

impl PermissionInput {
    /// The model constraints, reported together as one `ValidationException`.
    fn check(&self, qualifier: Option<&str>) -> Result<(), LambdaError> {
        let mut v = Violations::default();
        match self.statement_id.as_deref() {
            None => v.push_null("statementId"),
            Some(s) => {
                if s.is_empty() {
                    v.push(
                        s,
                        "statementId",
                        "Member must have length greater than or equal to 1",
                    );
                } else if s.len() > 100 {
                    v.push(
                        s,
                        "statementId",
                        "Member must have length less than or equal to 100",
                    );
                }
                if !is_statement_id(s) {
                    v.push(
                        s,
                        "statementId",
                        &format!("Member must satisfy regular expression pattern: {STATEMENT_ID_PATTERN}"),
                    );
                }
            }
        }
        match self.action.as_deref() {
            None => v.push_null("action"),
            Some(a) if !is_action(a) => v.push(
                a,
                "action",
                &format!("Member must satisfy regular expression pattern: {ACTION_PATTERN}"),
            ),
            Some(_) => {}
        }
        match self.principal.as_deref() {
            None => v.push_null("principal"),
            Some(p) if p.is_empty() || p.chars().any(char::is_whitespace) => v.push(
                p,
                "principal",
                r"Member must satisfy regular expression pattern: [^\s]+",
            ),
            Some(_) => {}
        }
        if let Some(a) = self.source_account.as_deref() {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                v.push(
                    a,
                    "sourceAccount",
                    &format!(
                        "Member must satisfy regular expression pattern: {SOURCE_ACCOUNT_PATTERN}"
                    ),
                );
            }
        }
        if let Some(t) = self.function_url_auth_type.as_deref() {
            if t != "NONE" && t != "AWS_IAM" {
                v.push(
                    t,
                    "functionUrlAuthType",
                    "Member must satisfy enum value set: [NONE, AWS_IAM]",
                );
            }
        }
        if let Some(q) = qualifier {
            qualifier_violations(&mut v, q);
        }
        v.into_result()
    }
}

fn is_statement_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_action(a: &str) -> bool {
    match a.strip_prefix("lambda:") {
        Some(rest) => {
            rest == "*" || (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphabetic()))
        }
        None => a == "*",
    }
}

/// The `Principal` a statement gets: `*`, an account (as its root), an ARN, or a service.
fn principal(raw: &str) -> Result<PermissionPrincipal, LambdaError> {
    if raw == "*" {
        return Ok(PermissionPrincipal::Any(raw.to_string()));
    }
    if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(PermissionPrincipal::Aws {
            aws: format!("arn:aws:iam::{raw}:root"),
        });
    }
    if raw.starts_with("arn:aws:iam::") || raw.starts_with("arn:aws:sts::") {
        return Ok(PermissionPrincipal::Aws {
            aws: raw.to_string(),
        });
    }
    // A service principal: a DNS name, such as `s3.amazonaws.com`.
    let labels_ok = raw
        .split('.')
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if raw.contains('.') && labels_ok {
        return Ok(PermissionPrincipal::Service {
            service: raw.to_string(),
        });
    }
    Err(LambdaError::InvalidParameterValue(
        "The provided principal was invalid. Please check the principal and try again.".into(),
    ))
}

/// What a qualifier names in `record`, if it exists: the key of its policy.
enum Target {
    Latest,
    Version(u64),
    Alias(String),
}

impl Target {
    fn key(&self) -> String {
        match self {
            Target::Latest => LATEST.to_string(),
            Target::Version(n) => n.to_string(),
            Target::Alias(a) => a.clone(),
        }
    }

    /// The RevisionId of the version or alias the policy is attached to.
    fn revision<'r>(&self, record: &'r FunctionRecord) -> Option<&'r str> {
        match self {
            Target::Latest => Some(&record.latest.revision_id),
            Target::Version(n) => record.versions.get(n).map(|c| c.revision_id.as_str()),
            Target::Alias(a) => record.aliases.get(a).map(|c| c.revision_id.as_str()),
        }
    }

    /// Gives the version or alias the policy's new RevisionId, as AWS does.
    fn set_revision(&self, record: &mut FunctionRecord, revision: &str) {
        // A policy is no change to publish: `$LATEST` unchanged since its newest version
        // stays so, and PublishVersion still returns that version.
        if matches!(self, Target::Latest)
            && record.published_revision.as_deref() == Some(record.latest.revision_id.as_str())
        {
            record.published_revision = Some(revision.to_string());
        }
        let slot = match self {
            Target::Latest => Some(&mut record.latest.revision_id),
            Target::Version(n) => record.versions.get_mut(n).map(|c| &mut c.revision_id),
            Target::Alias(a) => record.aliases.get_mut(a).map(|c| &mut c.revision_id),
        };
        if let Some(slot) = slot {
            *slot = revision.to_string();
        }
    }
}

/// Why a qualifier names nothing in a record.
enum Missing {
    /// A version number, `$`-name or other qualifier that is no version: "Function not found".
    Version,
    Alias,
}

/// What `qualifier` names in `record` (`None` and `$LATEST` name the unqualified function).
fn resolve(record: &FunctionRecord, qualifier: Option<&str>) -> Result<Target, Missing> {
    let Some(q) = qualifier.filter(|q| *q != LATEST) else {
        return Ok(Target::Latest);
    };
    if q.bytes().all(|b| b.is_ascii_digit()) {
        // Only the number as AWS writes it: `01` is not version 1.
        return match q.parse::<u64>() {
            Ok(n) if n.to_string() == q && record.versions.contains_key(&n) => {
                Ok(Target::Version(n))
            }
            _ => Err(Missing::Version),
        };
    }
    if q.contains('$') {
        return Err(Missing::Version);
    }
    if record.aliases.contains_key(q) {
        Ok(Target::Alias(q.to_string()))
    } else {
        Err(Missing::Alias)
    }
}

/// [`resolve`], with AWS's error for a missing version or alias.
fn target(
    ctl: &Control,
    record: &FunctionRecord,
    name: &str,
    qualifier: Option<&str>,
) -> Result<Target, LambdaError> {
    resolve(record, qualifier).map_err(|m| {
        let arn = ctl.arn(name, qualifier);
        match m {
            Missing::Version => LambdaError::function_not_found(arn),
            Missing::Alias => {
                LambdaError::ResourceNotFound(format!("Cannot find alias arn: {arn}"))
            }
        }
    })
}

/// The policy of `qualifier` in `record`, if it has one, with the key it is kept under.
fn policy_of<'r>(
    record: &'r FunctionRecord,
    qualifier: Option<&str>,
) -> Option<(String, &'r ResourcePolicy)> {
    let key = resolve(record, qualifier).ok()?.key();
    let policy = record.policies.get(&key)?;
    Some((key, policy))
}

/// AddPermission and RemovePermission's `RevisionId` precondition: the policy's (which is
/// also its version's or alias's) when it has one, else the version's or alias's.
fn check_revision(
    record: &FunctionRecord,
    t: &Target,
    given: Option<&str>,
) -> Result<(), LambdaError> {
    let Some(given) = given else { return Ok(()) };
    match record.policies.get(&t.key()) {
        Some(p) if p.revision_id == given || t.revision(record) == Some(given) => Ok(()),
        Some(_) => Err(LambdaError::revision_mismatch()),
        None if t.revision(record) == Some(given) => Ok(()),
        None => Err(LambdaError::PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id".into(),
        )),
    }
}

pub fn add(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let statement = ctl.add_permission(f, req.query("Qualifier"), req.json()?)?;
    let text = serde_json::to_string(&statement).unwrap_or_default();
    Ok(ApiResponse::json(201, &json!({ "Statement": text })))
}

impl Control {
    /// AddPermission: validates `input` as AWS does and adds its statement to the policy of
    /// function `f` (a name or ARN) or of its `qualifier`; returns the statement added.
    pub fn add_permission(
        &self,
        f: &str,
        qualifier: Option<&str>,
        input: PermissionInput,
    ) -> Result<PermissionStatement, LambdaError> {
        input.check(qualifier)?;
        let (name, qualifier) = self.resolve_name(f, qualifier)?;
        if qualifier.as_deref() == Some(LATEST) {
            return Err(LambdaError::InvalidParameterValue(
                "We currently do not support adding policies for $LATEST.".into(),
            ));
        }
        let sid = input.statement_id.clone().unwrap_or_default();
        let principal = principal(input.principal.as_deref().unwrap_or_default())?;
        let statement = PermissionStatement {
            sid: sid.clone(),
            effect: "Allow".into(),
            principal,
            action: input.action.clone().unwrap_or_default(),
            resource: self.arn(&name, qualifier.as_deref()),
            condition: PermissionCondition {
                string_equals: StringEquals {
                    source_account: input.source_account.clone(),
                    event_source_token: input.event_source_token.clone(),
                    function_url_auth_type: input.function_url_auth_type.clone(),
                    principal_org_id: input.principal_org_id.clone(),
                },
                arn_like: input
                    .source_arn
                    .clone()
                    .map(|source_arn| ArnLike { source_arn }),
            },
        };
        self.mutate(&name, |record| {
            let t = target(self, record, &name, qualifier.as_deref())?;
            check_revision(record, &t, input.revision_id.as_deref())?;
            let revision = revision_id();
            let mut policy = record
                .policies
                .get(&t.key())
                .cloned()
                .unwrap_or_else(|| ResourcePolicy {
                    statements: Vec::new(),
                    revision_id: String::new(),
                });
            if policy.statements.iter().any(|s| s.sid == sid) {
                return Err(LambdaError::ResourceConflict(format!(
                    "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
                )));
            }
            policy.statements.push(statement.clone());
            policy.revision_id = revision.clone();
            let len = policy.document().len();
            if len > MAX_POLICY_LEN {
                return Err(LambdaError::PolicyLengthExceeded(format!(
                    "The final policy size ({len}) is bigger than the limit ({MAX_POLICY_LEN})."
                )));
            }
            record.policies.insert(t.key(), policy);
            t.set_revision(record, &revision);
            Ok(())
        })?;
        Ok(statement)
    }
}

pub fn remove(
    ctl: &Control,
    f: &str,
    sid: &str,
    req: &ApiRequest,
) -> Result<ApiResponse, LambdaError> {
    let mut v = Violations::default();
    if let Some(q) = req.query("Qualifier") {
        qualifier_violations(&mut v, q);
    }
    v.into_result()?;
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    let no_policy_for = || {
        LambdaError::ResourceNotFound(format!(
            "No policy found for: {}",
            ctl.arn(&name, qualifier.as_deref())
        ))
    };
    if ctl.get(&name).is_none() {
        return Err(no_policy_for());
    }
    ctl.mutate(&name, |record| {
        let t = target(ctl, record, &name, qualifier.as_deref())?;
        let key = t.key();
        let Some(policy) = record.policies.get(&key) else {
            return Err(LambdaError::ResourceNotFound(
                "No policy is associated with the given resource.".into(),
            ));
        };
        check_revision(record, &t, req.query("RevisionId"))?;
        let mut policy = policy.clone();
        let before = policy.statements.len();
        policy.statements.retain(|s| s.sid != sid);
        if policy.statements.len() == before {
            return Err(LambdaError::ResourceNotFound(format!(
                "Statement {sid} is not found in resource policy."
            )));
        }
        if policy.statements.is_empty() {
            record.policies.remove(&key);
        } else {
            let revision = revision_id();
            policy.revision_id = revision.clone();
            record.policies.insert(key, policy);
            t.set_revision(record, &revision);
        }
        Ok(())
    })?;
    Ok(ApiResponse::empty(204))
}

pub fn get(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let mut v = Violations::default();
    if let Some(q) = req.query("Qualifier") {
        qualifier_violations(&mut v, q);
    }
    v.into_result()?;
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    let missing =
        || LambdaError::ResourceNotFound("The resource you requested does not exist.".into());
    let record = ctl.get(&name).ok_or_else(missing)?;
    let t = target(ctl, &record, &name, qualifier.as_deref()).map_err(|_| missing())?;
    let policy = record.policies.get(&t.key()).ok_or_else(missing)?;
    Ok(ApiResponse::json(
        200,
        &json!({ "Policy": policy.document(), "RevisionId": policy.revision_id }),
    ))
}

impl Control {
    /// The resource-based policy of a function's `qualifier` (`None` or `$LATEST` for the
    /// unqualified function, a version number, an alias name), compiled, as the authorizer
    /// evaluates it; compiled once per revision of the policy.
    ///
    /// Reads the in-memory snapshot only, never SQLite, so the invoke path may call it.
    /// `None` when the function, its version or alias, or its policy does not exist.
    pub fn function_policy(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Option<Arc<Policy>> {
        let record = self.get(function_name)?;
        let (key, policy) = policy_of(&record, qualifier)?;
        self.inner.authorizer.resource_policy(
            &format!("lambda/{function_name}/{key}/{}", policy.revision_id),
            || policy.document(),
        )
    }

    /// Whether the function's permissions let an AWS service (`s3.amazonaws.com`, acting for
    /// `source_arn` in `source_account`) invoke it: what S3 checks before it accepts a
    /// notification target and before it queues each event, and the gateway later.
    pub fn service_may_invoke(
        &self,
        service: &str,
        source_arn: &str,
        source_account: &str,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> bool {
        let Some(policy) = self.function_policy(function_name, qualifier) else {
            return false;
        };
        let keys = [
            ("aws:SourceArn", source_arn),
            ("aws:SourceAccount", source_account),
        ];
        let facts = RequestFacts {
            keys: &keys,
            resource_policy: auth::ResourcePolicy::Given(&policy),
            ..RequestFacts::new("", &self.inner.region)
        };
        let resource = self.arn(function_name, qualifier);
        self.inner
            .authorizer
            .authorize_caller(
                Caller::Service(service),
                "lambda:InvokeFunction",
                &resource,
                &facts,
            )
            .0
            .is_allowed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambent_aws::iam::{Policy, PolicyKind, SizeLimit};

    fn statement(
        sid: &str,
        raw_principal: &str,
        condition: PermissionCondition,
    ) -> PermissionStatement {
        PermissionStatement {
            sid: sid.into(),
            effect: "Allow".into(),
            principal: principal(raw_principal).unwrap(),
            action: "lambda:InvokeFunction".into(),
            resource: "arn:aws:lambda:us-east-1:000000000000:function:f:live".into(),
            condition,
        }
    }

    #[test]
    fn principals_take_aws_shapes() {
        let cases = [
            ("*", json!("*")),
            (
                "123456789012",
                json!({"AWS": "arn:aws:iam::123456789012:root"}),
            ),
            (
                "arn:aws:iam::123456789012:user/u",
                json!({"AWS": "arn:aws:iam::123456789012:user/u"}),
            ),
            ("s3.amazonaws.com", json!({"Service": "s3.amazonaws.com"})),
        ];
        for (raw, want) in cases {
            assert_eq!(
                serde_json::to_value(principal(raw).unwrap()).unwrap(),
                want,
                "{raw}"
            );
        }
        for bad in ["", "nobody", "12345", "a..b", "x y.com"] {
            assert!(
                matches!(principal(bad), Err(LambdaError::InvalidParameterValue(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn documents_keep_aws_key_order_and_parse_as_resource_policies() {
        let full = PermissionCondition {
            string_equals: StringEquals {
                source_account: Some("123456789012".into()),
                event_source_token: Some("amzn1.ask.skill.x".into()),
                function_url_auth_type: Some("NONE".into()),
                principal_org_id: Some("o-1234567890".into()),
            },
            arn_like: Some(ArnLike {
                source_arn: "arn:aws:s3:::bucket".into(),
            }),
        };
        let policy = ResourcePolicy {
            statements: vec![
                statement("plain", "s3.amazonaws.com", PermissionCondition::default()),
                statement("full", "*", full),
                statement("account", "123456789012", PermissionCondition::default()),
                statement(
                    "arn",
                    "arn:aws:iam::123456789012:role/r",
                    PermissionCondition::default(),
                ),
            ],
            revision_id: "r".into(),
        };
        let text = policy.document();
        assert!(text.starts_with(r#"{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"plain","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"#));
        assert!(text.contains(r#""Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012","lambda:EventSourceToken":"amzn1.ask.skill.x","lambda:FunctionUrlAuthType":"NONE","aws:PrincipalOrgID":"o-1234567890"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}"#));
        Policy::parse(&text, PolicyKind::Resource, &SizeLimit::None).unwrap();
        for s in &policy.statements {
            let one = ResourcePolicy {
                statements: vec![s.clone()],
                revision_id: "r".into(),
            };
            Policy::parse(&one.document(), PolicyKind::Resource, &SizeLimit::None).unwrap();
        }
        // The stored form round-trips.
        let stored = serde_json::to_string(&policy).unwrap();
        assert_eq!(
            serde_json::from_str::<ResourcePolicy>(&stored).unwrap(),
            policy
        );
    }

    #[test]
    fn inputs_are_checked_against_the_model() {
        let ok = PermissionInput {
            statement_id: Some("s-1_a".into()),
            action: Some("lambda:*".into()),
            principal: Some("*".into()),
            ..PermissionInput::default()
        };
        assert!(ok.check(Some("live")).is_ok());
        let bad = PermissionInput {
            statement_id: Some("example.com".into()),
            ..ok
        };
        let Err(LambdaError::Validation(m)) = bad.check(None) else {
            panic!("accepted")
        };
        assert_eq!(m, "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)");
        assert!(PermissionInput::default().check(None).is_err());
        for a in [
            "lambda:InvokeFunction",
            "lambda:*",
            "*",
            "lambda:GetFunction",
        ] {
            assert!(is_action(a), "{a}");
        }
        for a in ["", "lambda:", "s3:GetObject", "lambda:Invoke-Function"] {
            assert!(!is_action(a), "{a}");
        }
    }

    /// A record with `$LATEST`, version 1 and alias `live`, as stored.
    fn record() -> FunctionRecord {
        let config = |version: &str| {
            json!({
                "FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
                "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
                "Handler": "app.handler", "CodeSize": 1, "CodeSha256": "x", "Description": "",
                "Timeout": 3, "MemorySize": 128, "LastModified": "t", "Version": version,
                "Environment": {}, "TracingConfig": {"Mode": "PassThrough"}, "RevisionId": "r",
                "State": "Active", "PackageType": "Zip", "Architectures": ["x86_64"],
                "EphemeralStorage": {"Size": 512},
                "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
                "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"},
            })
        };
        serde_json::from_value(json!({
            "latest": config("$LATEST"),
            "versions": {"1": config("1")},
            "next_version": 2,
            "aliases": {"live": {"AliasArn": "arn:aws:lambda:us-east-1:000000000000:function:f:live",
                                 "Name": "live", "FunctionVersion": "1", "Description": "",
                                 "RevisionId": "a"}},
        }))
        .unwrap()
    }

    #[test]
    fn the_authorizer_reads_each_qualifiers_own_policy() {
        let mut r = record();
        let one = |sid: &str| ResourcePolicy {
            statements: vec![statement(sid, "*", PermissionCondition::default())],
            revision_id: "p".into(),
        };
        r.policies.insert("$LATEST".into(), one("latest"));
        r.policies.insert("live".into(), one("alias"));
        // Left behind by a version deleted outside this module: never handed out.
        r.policies.insert("7".into(), one("gone"));
        let sid = |q: Option<&str>| {
            policy_of(&r, q).map(|(_, p)| {
                let text = p.document();
                Policy::parse(&text, PolicyKind::Resource, &SizeLimit::None).unwrap();
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v["Statement"][0]["Sid"].as_str().unwrap().to_string()
            })
        };
        assert_eq!(sid(None).as_deref(), Some("latest"));
        assert_eq!(sid(Some("$LATEST")).as_deref(), Some("latest"));
        assert_eq!(sid(Some("live")).as_deref(), Some("alias"));
        assert_eq!(sid(Some("1")), None, "version 1 has no policy of its own");
        assert_eq!(sid(Some("7")), None);
        assert_eq!(sid(Some("01")), None);
        assert_eq!(sid(Some("other")), None);
        assert_eq!(policy_of(&r, Some("live")).unwrap().0, "live");
    }
}
