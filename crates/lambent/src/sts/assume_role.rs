//! AssumeRole: the request's members checked against STS's model, the role found and its
//! trust policy asked whether the caller may assume it, then a session issued through the
//! key ring carrying the session policy, policy ARNs and tags for the authorizer.

use super::query::{Params, Xml};
use super::session_token::credentials;
use super::validate::{self, Violations};
use super::{Sts, StsError};
use crate::auth::{Principal, RoleSession};
use lambent_aws::iam::{self, Outcome, Policy, PolicyKind, PolicySet, SizeLimit, Source};
use lambent_store::iam::IamError;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_DURATION: i64 = 3_600;
/// A session assuming another role (role chaining) lasts at most an hour.
const CHAINED_MAX_DURATION: i64 = 3_600;
/// What the packed session policy and tags may take, in characters: `PackedPolicySize`
/// reports the share used in percent.
const PACKED_LIMIT: usize = 2_048;

/// The members of one AssumeRole request, validated.
struct AssumeRole<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    duration: Option<i64>,
    external_id: Option<&'a str>,
    policy: Option<&'a str>,
    policy_arns: Vec<String>,
    tags: Vec<(String, String)>,
    transitive_tag_keys: Vec<String>,
    source_identity: Option<&'a str>,
}

fn parse(params: &Params) -> Result<AssumeRole<'_>, StsError> {
    let mut v = Violations::default();
    let validate::SessionMembers {
        role_arn,
        session_name,
        policy_arns,
        policy,
        duration,
    } = v.session_members(params)?;
    let keys = params.list("Tags", ".Key");
    v.count(keys.len(), "tags", 50);
    let tags: Vec<(String, String)> = (1..=keys.len())
        .map(|n| {
            let value = params.get(&format!("Tags.member.{n}.Value")).unwrap_or("");
            (keys[n - 1].to_string(), value.to_string())
        })
        .collect();
    for (k, value) in &tags {
        v.text(Some(k), "tags.member.key", 1, 128, None);
        v.text(Some(value), "tags.member.value", 0, 256, None);
    }
    let transitive = params.list("TransitiveTagKeys", "");
    v.count(transitive.len(), "transitiveTagKeys", 50);
    let external_id = params.get("ExternalId");
    v.text(
        external_id,
        "externalId",
        2,
        1224,
        Some(validate::EXTERNAL_ID),
    );
    v.text(params.get("SerialNumber"), "serialNumber", 9, 256, None);
    v.text(params.get("TokenCode"), "tokenCode", 6, 6, None);
    let source_identity = params.get("SourceIdentity");
    v.text(
        source_identity,
        "sourceIdentity",
        2,
        64,
        Some(validate::SESSION_NAME),
    );
    v.finish()?;
    let (Some(role_arn), Some(session_name)) = (role_arn, session_name) else {
        return Err(StsError::validation(
            "RoleArn and RoleSessionName are required",
        ));
    };
    let mut seen = std::collections::HashSet::new();
    if !tags
        .iter()
        .all(|(k, _)| seen.insert(k.to_ascii_lowercase()))
    {
        return Err(invalid_parameter(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ));
    }
    if !transitive
        .iter()
        .all(|t| seen.contains(&t.to_ascii_lowercase()))
    {
        return Err(invalid_parameter(
            "The specified transitive tag key must be included in the requested tags.",
        ));
    }
    Ok(AssumeRole {
        role_arn,
        session_name,
        duration,
        external_id,
        policy,
        policy_arns: policy_arns.into_iter().map(str::to_string).collect(),
        tags,
        transitive_tag_keys: transitive.into_iter().map(str::to_string).collect(),
        source_identity,
    })
}

fn invalid_parameter(message: &str) -> StsError {
    StsError::new(400, "InvalidParameterValue", message)
}

pub(super) fn assume_role(
    sts: &Sts,
    caller: &Principal,
    params: &Params,
    identity_allows: bool,
) -> Result<Xml, StsError> {
    let mut req = parse(params)?;
    if !validate::arn_is_valid(req.role_arn) {
        return Err(StsError::validation(format!("{} is invalid", req.role_arn)));
    }
    if let Some(text) = req.policy {
        // Kept as text for the authorizer; parsed here only to refuse what AWS refuses.
        Policy::parse(text, PolicyKind::Session, &SizeLimit::None)
            .map_err(|e| StsError::new(400, e.code(), e.to_string()))?;
    }
    // A chained session inherits the calling session's transitive tags, which the request
    // may not set again.
    if let Principal::Role(parent) = caller {
        for key in &parent.transitive_tag_keys {
            let Some(tag) = parent
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            if req.tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Err(invalid_parameter(
                    "One of the specified transitive tag keys can't be set because it \
                     conflicts with a transitive tag key from the calling session.",
                ));
            }
            req.tags.push(tag.clone());
            req.transitive_tag_keys.push(key.clone());
        }
    }

    let principal = sts.evaluator_principal(caller)?;
    let denied = || {
        StsError::access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
            principal.arn, req.role_arn
        ))
    };
    // AWS answers a role that does not exist as it answers one whose trust policy refuses.
    let Some(role) = find_role(sts, req.role_arn)? else {
        return Err(denied());
    };
    let trust = Policy::parse(&role.trust_policy, PolicyKind::Trust, &SizeLimit::None)
        .map_err(|_| denied())?;
    let mut context = iam::Context::new();
    if let Some(id) = req.external_id {
        context.insert("sts:ExternalId", id);
    }
    context.insert("sts:RoleSessionName", req.session_name);
    if let Some(s) = req.source_identity {
        context.insert("sts:SourceIdentity", s);
    }
    for (k, value) in &req.tags {
        context.insert(&format!("aws:RequestTag/{k}"), value);
    }
    let tag_keys: Vec<&str> = req.tags.iter().map(|(k, _)| k.as_str()).collect();
    if !tag_keys.is_empty() {
        context.insert_many("aws:TagKeys", &tag_keys);
    }
    let transitive: Vec<&str> = req.transitive_tag_keys.iter().map(String::as_str).collect();
    if !transitive.is_empty() {
        context.insert_many("sts:TransitiveTagKeys", &transitive);
    }
    let now = time::OffsetDateTime::now_utc();
    context.insert("aws:EpochTime", &now.unix_timestamp().to_string());
    let decision = iam::evaluate(
        &PolicySet {
            resource: Some(Source {
                id: &role.arn,
                policy: &trust,
            }),
            ..PolicySet::default()
        },
        &iam::Request {
            principal: &principal,
            action: "sts:AssumeRole",
            resource: &role.arn,
            resource_account: Some(sts.account()),
            context: &context,
        },
    );
    // Within the account, a trust policy naming the caller (or its role) allows by itself;
    // one naming only the account delegates to the caller's identity-based policies, which
    // the edge asked the authorizer about (an explicit deny there never reaches here).
    match decision.outcome {
        Outcome::Allow => {}
        Outcome::ImplicitDeny(PolicyKind::Identity) if identity_allows => {}
        _ => return Err(denied()),
    }

    let max = if matches!(caller, Principal::Role(_)) {
        CHAINED_MAX_DURATION
    } else {
        i64::from(role.max_session_duration)
    };
    let duration = req.duration.unwrap_or(DEFAULT_DURATION.min(max));
    if duration > max {
        return Err(StsError::validation(
            if matches!(caller, Principal::Role(_)) {
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed \
             by role chaining."
            } else {
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            },
        ));
    }
    let packed = packed_percent(req.policy, &req.tags);
    if packed > 100 {
        return Err(StsError::new(
            400,
            "PackedPolicyTooLarge",
            format!(
                "Packed policy consumes {packed}% of allotted space, please use smaller policy."
            ),
        ));
    }

    let session = RoleSession {
        role_arn: role.arn.clone(),
        role_id: Some(role.id.clone()),
        session_name: req.session_name.to_string(),
        policy: req.policy.map(str::to_string),
        policy_arns: req.policy_arns,
        tags: req.tags,
        transitive_tag_keys: req.transitive_tag_keys,
        source_identity: req.source_identity.map(str::to_string),
        context: Vec::new(),
    };
    let (assumed_arn, assumed_id) = (session.arn(), format!("{}:{}", role.id, req.session_name));
    let packed_reported = req.policy.is_some() || !session.tags.is_empty();
    let issued = sts.keyring.issue_expiring(
        Principal::Role(Arc::new(session)),
        Duration::from_secs(duration as u64),
    );
    let mut xml = Xml::default();
    if let Some(s) = req.source_identity {
        xml.elem("SourceIdentity", s);
    }
    xml.open("AssumedRoleUser")
        .elem("AssumedRoleId", &assumed_id)
        .elem("Arn", &assumed_arn)
        .close("AssumedRoleUser");
    credentials(&mut xml, &issued);
    if packed_reported {
        xml.elem("PackedPolicySize", &packed.to_string());
    }
    Ok(xml)
}

/// The role `arn` names in this account, by name and then exact ARN (its path included).
pub(super) fn find_role(
    sts: &Sts,
    arn: &str,
) -> Result<Option<lambent_store::iam::Role>, StsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (service, account, resource) = (parts[2], parts[4], parts[5]);
    if service != "iam" || account != sts.account() || !resource.starts_with("role/") {
        return Ok(None);
    }
    let name = resource.rsplit('/').next().unwrap_or("");
    match sts.iam.role(name) {
        Ok(role) if role.arn == arn => Ok(Some(role)),
        Ok(_) | Err(IamError::NoSuchEntity { .. }) => Ok(None),
        Err(e) => Err(StsError::internal("reading the role", e)),
    }
}

/// The share of the packed space the session policy (without whitespace) and the tags take,
/// in percent, rounded up.
fn packed_percent(policy: Option<&str>, tags: &[(String, String)]) -> usize {
    let policy = policy.map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count());
    let tags: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    (policy + tags).saturating_mul(100).div_ceil(PACKED_LIMIT)
}
