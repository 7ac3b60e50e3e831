//! Managed policies and their versions: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
//! CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion and
//! SetDefaultPolicyVersion. Documents are validated as identity policies (6,144 characters).

use super::xml::Xml;
use super::{name, path, path_prefix, tags, validate, Call, IamApiError, Outcome};
use lambent_aws::iam::{Policy, PolicyKind, SizeLimit};
use lambent_store::iam::{IamError, ManagedPolicy, NewPolicy, PolicyScope, PolicyVersion};

fn policy_xml(x: &mut Xml, p: &ManagedPolicy, full: bool) {
    x.text("PolicyName", &p.name)
        .text("PolicyId", &p.id)
        .text("Arn", &p.arn)
        .text("Path", &p.path)
        .text("DefaultVersionId", &p.default_version)
        .number("AttachmentCount", p.attachment_count)
        .number("PermissionsBoundaryUsageCount", p.boundary_usage_count)
        .bool("IsAttachable", true);
    if full {
        x.maybe("Description", p.description.as_deref());
    }
    x.time("CreateDate", p.created)
        .time("UpdateDate", p.updated);
    if full && !p.tags.is_empty() {
        tags(x, &p.tags);
    }
}

fn version_xml(x: &mut Xml, v: &PolicyVersion, with_document: bool) {
    if with_document {
        x.policy("Document", &v.document);
    }
    x.text("VersionId", &v.version_id)
        .bool("IsDefaultVersion", v.is_default)
        .time("CreateDate", v.created);
}

/// An identity policy document, validated.
pub fn document<'a>(call: &'a Call<'_>, limit: &SizeLimit) -> Result<&'a str, IamApiError> {
    let text = call.query.required("PolicyDocument")?;
    Policy::parse(text, PolicyKind::Identity, limit)?;
    Ok(text)
}

pub fn arn<'a>(call: &'a Call<'_>) -> Result<&'a str, IamApiError> {
    let arn = call.query.required("PolicyArn")?;
    validate::policy_arn(arn)?;
    Ok(arn)
}

fn version_id<'a>(call: &'a Call<'_>) -> Result<&'a str, IamApiError> {
    let v = call.query.required("VersionId")?;
    validate::version_id(v)?;
    Ok(v)
}

/// A missing version, in AWS's words.
fn version_error(e: IamError, arn: &str, version: &str) -> IamApiError {
    match e {
        IamError::NoSuchEntity {
            kind: lambent_store::iam::EntityKind::PolicyVersion,
            ..
        } => IamApiError::no_such_entity(format!(
            "Policy {arn} version {version} does not exist or is not attachable."
        )),
        other => other.into(),
    }
}

pub fn create(call: &Call<'_>) -> Outcome {
    let description = call.query.get("Description");
    if let Some(d) = description {
        validate::description(d)?;
    }
    let new = NewPolicy {
        name: name(call, "PolicyName", 128)?.to_string(),
        path: path(call, "Path")?.map(str::to_string),
        document: document(call, &SizeLimit::Managed)?.to_string(),
        description: description.map(str::to_string),
        tags: call.query.tags()?,
    };
    let policy = call.store.create_policy(&new)?;
    let mut x = Xml::new();
    x.open("Policy");
    policy_xml(&mut x, &policy, false);
    x.close("Policy");
    Ok(Some(x))
}

pub fn get(call: &Call<'_>) -> Outcome {
    let policy = call.store.policy(arn(call)?)?;
    let mut x = Xml::new();
    x.open("Policy");
    policy_xml(&mut x, &policy, true);
    x.close("Policy");
    Ok(Some(x))
}

pub fn list(call: &Call<'_>) -> Outcome {
    let scope = match call.query.get("Scope") {
        None | Some("All") => PolicyScope::All,
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        Some(other) => {
            return Err(IamApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'scope' failed to satisfy \
                 constraint: Member must satisfy enum value set: [All, AWS, Local]"
            )))
        }
    };
    let only_attached = call.query.flag("OnlyAttached")?.unwrap_or(false);
    let page = call.store.list_policies(
        scope,
        only_attached,
        path_prefix(call)?,
        &call.query.paging()?,
    )?;
    let mut x = Xml::new();
    x.members("Policies", &page.items, |x, p| policy_xml(x, p, false));
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

pub fn delete(call: &Call<'_>) -> Outcome {
    call.store.delete_policy(arn(call)?)?;
    Ok(None)
}

pub fn create_version(call: &Call<'_>) -> Outcome {
    let arn = arn(call)?;
    let document = document(call, &SizeLimit::Managed)?;
    let set_as_default = call.query.flag("SetAsDefault")?.unwrap_or(false);
    let version = call
        .store
        .create_policy_version(arn, document, set_as_default)?;
    let mut x = Xml::new();
    x.open("PolicyVersion");
    version_xml(&mut x, &version, false);
    x.close("PolicyVersion");
    Ok(Some(x))
}

pub fn get_version(call: &Call<'_>) -> Outcome {
    let (arn, v) = (arn(call)?, version_id(call)?);
    let version = call
        .store
        .policy_version(arn, v)
        .map_err(|e| version_error(e, arn, v))?;
    let mut x = Xml::new();
    x.open("PolicyVersion");
    version_xml(&mut x, &version, true);
    x.close("PolicyVersion");
    Ok(Some(x))
}

pub fn list_versions(call: &Call<'_>) -> Outcome {
    let page = call
        .store
        .list_policy_versions(arn(call)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    x.members("Versions", &page.items, |x, v| version_xml(x, v, false));
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

pub fn delete_version(call: &Call<'_>) -> Outcome {
    let (arn, v) = (arn(call)?, version_id(call)?);
    call.store
        .delete_policy_version(arn, v)
        .map_err(|e| version_error(e, arn, v))?;
    Ok(None)
}

pub fn set_default_version(call: &Call<'_>) -> Outcome {
    let (arn, v) = (arn(call)?, version_id(call)?);
    call.store
        .set_default_policy_version(arn, v)
        .map_err(|e| version_error(e, arn, v))?;
    Ok(None)
}
