//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateAssumeRolePolicy, DeleteRole and
//! their tags. Trust policies are validated as AWS does (`PolicyKind::Trust`: a Principal,
//! no Resource, 2,048 characters).

use super::users::{boundary, boundary_xml, list_entity_tags, tag_entity, untag_entity};
use super::xml::Xml;
use super::{name, path, path_prefix, tags, validate, Call, IamApiError, Outcome};
use lambent_aws::iam::{Policy, PolicyKind, SizeLimit};
use lambent_store::iam::{EntityKind, NewRole, Role, RoleUpdate};

/// What of a role each answer shows: CreateRole shows neither the session duration nor
/// the last use, ListRoles the duration only, GetRole everything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Created,
    Listed,
    Full,
}

fn role_xml(x: &mut Xml, r: &Role, view: View) {
    x.text("Path", &r.path)
        .text("RoleName", &r.name)
        .text("RoleId", &r.id)
        .text("Arn", &r.arn)
        .time("CreateDate", r.created)
        .policy("AssumeRolePolicyDocument", &r.trust_policy)
        .maybe("Description", r.description.as_deref());
    if view != View::Created {
        x.number("MaxSessionDuration", r.max_session_duration);
    }
    if let Some(b) = &r.permissions_boundary {
        boundary_xml(x, b);
    }
    if view != View::Listed && !r.tags.is_empty() {
        tags(x, &r.tags);
    }
    if view == View::Full {
        x.open("RoleLastUsed");
        if let Some(u) = &r.last_used {
            x.time("LastUsedDate", u.at).text("Region", &u.region);
        }
        x.close("RoleLastUsed");
    }
}

/// A trust policy, parsed as AWS does, whose users and roles of this account exist (IAM
/// resolves each named principal when the policy is set).
fn trust_policy<'a>(call: &'a Call<'_>, member: &str) -> Result<&'a str, IamApiError> {
    let text = call.query.required(member)?;
    let policy = Policy::parse(text, PolicyKind::Trust, &SizeLimit::Trust)?;
    let own = format!("arn:aws:iam::{}:", call.store.account());
    for arn in policy.principal_arns() {
        let Some(resource) = arn.strip_prefix(&own) else {
            continue;
        };
        let name = resource.rsplit('/').next().unwrap_or("");
        let exists = match resource.split('/').next() {
            Some("user") => call.store.user(name).is_ok_and(|u| u.arn == arn),
            Some("role") => call.store.role(name).is_ok_and(|r| r.arn == arn),
            _ => true,
        };
        if !exists {
            return Err(IamApiError::new(
                "MalformedPolicyDocument",
                400,
                format!("Invalid principal in policy: \"AWS\":\"{arn}\""),
            ));
        }
    }
    Ok(text)
}

fn max_session_duration(call: &Call<'_>) -> Result<Option<u32>, IamApiError> {
    Ok(call
        .query
        .number("MaxSessionDuration", 3600, 43200)?
        .map(|n| n as u32))
}

fn description(call: &Call<'_>) -> Result<Option<String>, IamApiError> {
    let d = call.query.get("Description");
    if let Some(d) = d {
        validate::description(d)?;
    }
    Ok(d.map(str::to_string))
}

pub fn create(call: &Call<'_>) -> Outcome {
    let new = NewRole {
        name: name(call, "RoleName", 64)?.to_string(),
        path: path(call, "Path")?.map(str::to_string),
        trust_policy: trust_policy(call, "AssumeRolePolicyDocument")?.to_string(),
        description: description(call)?,
        max_session_duration: max_session_duration(call)?,
        permissions_boundary: boundary(call)?.map(str::to_string),
        tags: call.query.tags()?,
    };
    let role = call.store.create_role(&new)?;
    let mut x = Xml::new();
    x.open("Role");
    role_xml(&mut x, &role, View::Created);
    x.close("Role");
    Ok(Some(x))
}

pub fn get(call: &Call<'_>) -> Outcome {
    let role = call.store.role(name(call, "RoleName", 64)?)?;
    let mut x = Xml::new();
    x.open("Role");
    role_xml(&mut x, &role, View::Full);
    x.close("Role");
    Ok(Some(x))
}

pub fn list(call: &Call<'_>) -> Outcome {
    let page = call
        .store
        .list_roles(path_prefix(call)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    x.members("Roles", &page.items, |x, r| role_xml(x, r, View::Listed));
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

pub fn update(call: &Call<'_>) -> Outcome {
    let role = name(call, "RoleName", 64)?;
    let update = RoleUpdate {
        description: description(call)?,
        max_session_duration: max_session_duration(call)?,
    };
    call.store.update_role(role, &update)?;
    // UpdateRole has an empty result element.
    Ok(Some(Xml::new()))
}

pub fn update_trust(call: &Call<'_>) -> Outcome {
    let role = name(call, "RoleName", 64)?;
    let document = trust_policy(call, "PolicyDocument")?;
    call.store.update_trust_policy(role, document)?;
    Ok(None)
}

pub fn delete(call: &Call<'_>) -> Outcome {
    call.store.delete_role(name(call, "RoleName", 64)?)?;
    Ok(None)
}

pub fn tag(call: &Call<'_>) -> Outcome {
    tag_entity(call, EntityKind::Role, "RoleName", 64)
}

/// PutRolePermissionsBoundary: a managed policy that exists becomes the role's boundary.
pub fn put_boundary(call: &Call<'_>) -> Outcome {
    let role = name(call, "RoleName", 64)?;
    call.query.required("PermissionsBoundary")?;
    call.store
        .set_role_permissions_boundary(role, boundary(call)?)?;
    Ok(None)
}

pub fn delete_boundary(call: &Call<'_>) -> Outcome {
    call.store
        .set_role_permissions_boundary(name(call, "RoleName", 64)?, None)?;
    Ok(None)
}

pub fn untag(call: &Call<'_>) -> Outcome {
    untag_entity(call, EntityKind::Role, "RoleName", 64)
}

pub fn list_tags(call: &Call<'_>) -> Outcome {
    list_entity_tags(call, EntityKind::Role, "RoleName", 64)
}
