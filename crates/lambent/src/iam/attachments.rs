//! Managed policies attached to users, groups and roles: Attach*/Detach*/ListAttached*
//! for each, and ListEntitiesForPolicy.

use super::policies::arn;
use super::xml::Xml;
use super::{name, path_prefix, Call, IamApiError, Outcome};
use lambent_store::iam::{EntityKind, IamError};

/// The member naming the entity, and its longest name.
pub fn owner_member(kind: EntityKind) -> (&'static str, usize) {
    match kind {
        EntityKind::User => ("UserName", 64),
        EntityKind::Group => ("GroupName", 128),
        _ => ("RoleName", 64),
    }
}

fn attach(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let owner = name(call, member, max)?;
    let arn = arn(call)?;
    call.store
        .attach_policy(kind, owner, arn)
        .map_err(|e| IamApiError::not_attachable(e, arn))?;
    Ok(None)
}

fn detach(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let owner = name(call, member, max)?;
    let arn = arn(call)?;
    call.store
        .detach_policy(kind, owner, arn)
        .map_err(|e| match e {
            IamError::NoSuchEntity {
                kind: EntityKind::Policy,
                ..
            } => IamApiError::no_such_entity(format!("Policy {arn} was not found.")),
            other => other.into(),
        })?;
    Ok(None)
}

fn list(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let page = call.store.list_attached_policies(
        kind,
        name(call, member, max)?,
        path_prefix(call)?,
        &call.query.paging()?,
    )?;
    let mut x = Xml::new();
    x.members("AttachedPolicies", &page.items, |x, p| {
        x.text("PolicyName", &p.name).text("PolicyArn", &p.arn);
    });
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

pub fn attach_user(call: &Call<'_>) -> Outcome {
    attach(call, EntityKind::User)
}
pub fn attach_group(call: &Call<'_>) -> Outcome {
    attach(call, EntityKind::Group)
}
pub fn attach_role(call: &Call<'_>) -> Outcome {
    attach(call, EntityKind::Role)
}
pub fn detach_user(call: &Call<'_>) -> Outcome {
    detach(call, EntityKind::User)
}
pub fn detach_group(call: &Call<'_>) -> Outcome {
    detach(call, EntityKind::Group)
}
pub fn detach_role(call: &Call<'_>) -> Outcome {
    detach(call, EntityKind::Role)
}
pub fn list_user(call: &Call<'_>) -> Outcome {
    list(call, EntityKind::User)
}
pub fn list_group(call: &Call<'_>) -> Outcome {
    list(call, EntityKind::Group)
}
pub fn list_role(call: &Call<'_>) -> Outcome {
    list(call, EntityKind::Role)
}

pub fn entities_for_policy(call: &Call<'_>) -> Outcome {
    let arn = arn(call)?;
    let only = match call.query.get("EntityFilter") {
        None => None,
        Some("User") => Some(EntityKind::User),
        Some("Group") => Some(EntityKind::Group),
        Some("Role") => Some(EntityKind::Role),
        // Policies are attached to users, groups and roles only.
        Some("LocalManagedPolicy") | Some("AWSManagedPolicy") => Some(EntityKind::Policy),
        Some(other) => {
            return Err(IamApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'entityFilter' failed to satisfy \
                 constraint: Member must satisfy enum value set: [User, Role, LocalManagedPolicy, \
                 Group, AWSManagedPolicy]"
            )))
        }
    };
    let page = call.store.list_entities_for_policy(
        arn,
        only,
        path_prefix(call)?,
        &call.query.paging()?,
    )?;
    let mut x = Xml::new();
    for (kind, list, name_tag, id_tag) in [
        (EntityKind::Group, "PolicyGroups", "GroupName", "GroupId"),
        (EntityKind::User, "PolicyUsers", "UserName", "UserId"),
        (EntityKind::Role, "PolicyRoles", "RoleName", "RoleId"),
    ] {
        let of_kind: Vec<_> = page.items.iter().filter(|e| e.kind == kind).collect();
        x.members(list, &of_kind, |x, e| {
            x.text(name_tag, &e.name).text(id_tag, &e.id);
        });
    }
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}
