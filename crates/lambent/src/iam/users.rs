//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and their tags.

use super::xml::Xml;
use super::{name, path, path_prefix, tags, user_name_or_caller, Call, IamApiError, Outcome};
use lambent_store::iam::{EntityKind, User};

/// The `User` structure.
pub fn user_xml(x: &mut Xml, u: &User, with_tags: bool) {
    x.text("Path", &u.path)
        .text("UserName", &u.name)
        .text("UserId", &u.id)
        .text("Arn", &u.arn)
        .time("CreateDate", u.created);
    if let Some(b) = &u.permissions_boundary {
        boundary_xml(x, b);
    }
    if with_tags && !u.tags.is_empty() {
        tags(x, &u.tags);
    }
}

pub fn boundary_xml(x: &mut Xml, arn: &str) {
    x.open("PermissionsBoundary")
        .text("PermissionsBoundaryType", "Policy")
        .text("PermissionsBoundaryArn", arn)
        .close("PermissionsBoundary");
}

/// An optional `PermissionsBoundary`: the ARN of a managed policy that exists.
pub fn boundary<'a>(call: &'a Call<'_>) -> Result<Option<&'a str>, IamApiError> {
    let Some(arn) = call.query.get("PermissionsBoundary") else {
        return Ok(None);
    };
    super::validate::policy_arn(arn)?;
    call.store.policy(arn).map_err(|_| {
        IamApiError::no_such_entity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))
    })?;
    Ok(Some(arn))
}

pub fn create(call: &Call<'_>) -> Outcome {
    let user_name = name(call, "UserName", 64)?;
    let path = path(call, "Path")?;
    let boundary = boundary(call)?;
    let tags = call.query.tags()?;
    let user = call.store.create_user(user_name, path, boundary, &tags)?;
    let mut x = Xml::new();
    x.open("User");
    user_xml(&mut x, &user, true);
    x.close("User");
    Ok(Some(x))
}

pub fn get(call: &Call<'_>) -> Outcome {
    let mut x = Xml::new();
    x.open("User");
    match user_name_or_caller(call)? {
        Some(n) => user_xml(&mut x, &call.store.user(n)?, true),
        // The root user is no IAM user: AWS answers with the account's id and root ARN.
        None => {
            x.text("UserId", call.store.account())
                .text("Arn", &super::root_arn(call.store))
                .time("CreateDate", 0);
        }
    }
    x.close("User");
    Ok(Some(x))
}

pub fn list(call: &Call<'_>) -> Outcome {
    let page = call
        .store
        .list_users(path_prefix(call)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    // ListUsers shows no tags (AWS leaves them to GetUser and ListUserTags).
    x.members("Users", &page.items, |x, u| user_xml(x, u, false));
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

pub fn update(call: &Call<'_>) -> Outcome {
    let user_name = name(call, "UserName", 64)?;
    let new_name = call.query.get("NewUserName");
    if let Some(n) = new_name {
        super::validate::name("NewUserName", n, 64)?;
    }
    let new_path = path(call, "NewPath")?;
    call.store.update_user(user_name, new_name, new_path)?;
    Ok(None)
}

pub fn delete(call: &Call<'_>) -> Outcome {
    call.store.delete_user(name(call, "UserName", 64)?)?;
    Ok(None)
}

pub fn tag(call: &Call<'_>) -> Outcome {
    tag_entity(call, EntityKind::User, "UserName", 64)
}

/// PutUserPermissionsBoundary: a managed policy that exists becomes the user's boundary.
pub fn put_boundary(call: &Call<'_>) -> Outcome {
    let user = name(call, "UserName", 64)?;
    call.query.required("PermissionsBoundary")?;
    call.store
        .set_user_permissions_boundary(user, boundary(call)?)?;
    Ok(None)
}

pub fn delete_boundary(call: &Call<'_>) -> Outcome {
    call.store
        .set_user_permissions_boundary(name(call, "UserName", 64)?, None)?;
    Ok(None)
}

pub fn untag(call: &Call<'_>) -> Outcome {
    untag_entity(call, EntityKind::User, "UserName", 64)
}

pub fn list_tags(call: &Call<'_>) -> Outcome {
    list_entity_tags(call, EntityKind::User, "UserName", 64)
}

/// TagUser and TagRole.
pub fn tag_entity(call: &Call<'_>, kind: EntityKind, member: &str, max: usize) -> Outcome {
    let entity = name(call, member, max)?;
    let tags = call.query.tags()?;
    if tags.is_empty() {
        return Err(IamApiError::validation(
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        ));
    }
    call.store.tag(kind, entity, &tags)?;
    Ok(None)
}

/// UntagUser and UntagRole.
pub fn untag_entity(call: &Call<'_>, kind: EntityKind, member: &str, max: usize) -> Outcome {
    let entity = name(call, member, max)?;
    let keys = call.query.list("TagKeys")?;
    call.store.untag(kind, entity, &keys)?;
    Ok(None)
}

/// ListUserTags and ListRoleTags.
pub fn list_entity_tags(call: &Call<'_>, kind: EntityKind, member: &str, max: usize) -> Outcome {
    let entity = name(call, member, max)?;
    let page = call.store.list_tags(kind, entity, &call.query.paging()?)?;
    let mut x = Xml::new();
    tags(&mut x, &page.items);
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}
