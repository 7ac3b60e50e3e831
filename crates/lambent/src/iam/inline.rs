//! Inline policies embedded in users, groups and roles: Put/Get/List/Delete
//! {User,Group,Role}Policy. Documents are identity policies, sized per owner as AWS does
//! (2,048 characters for a user, 5,120 for a group, 10,240 for a role).

use super::attachments::owner_member;
use super::policies::document;
use super::xml::Xml;
use super::{name, Call, Outcome};
use lambent_aws::iam::SizeLimit;
use lambent_store::iam::EntityKind;

fn limit(kind: EntityKind, owner: &str) -> SizeLimit {
    match kind {
        EntityKind::User => SizeLimit::UserInline(owner.to_string()),
        EntityKind::Group => SizeLimit::GroupInline(owner.to_string()),
        _ => SizeLimit::RoleInline(owner.to_string()),
    }
}

fn put(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let owner = name(call, member, max)?;
    let policy = name(call, "PolicyName", 128)?;
    let text = document(call, &limit(kind, owner))?;
    call.store.put_inline_policy(kind, owner, policy, text)?;
    Ok(None)
}

fn get(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let owner = name(call, member, max)?;
    let policy = name(call, "PolicyName", 128)?;
    let (policy_name, text) = call.store.inline_policy(kind, owner, policy)?;
    let mut x = Xml::new();
    x.text(member, owner)
        .text("PolicyName", &policy_name)
        .policy("PolicyDocument", &text);
    Ok(Some(x))
}

fn list(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let page =
        call.store
            .list_inline_policies(kind, name(call, member, max)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    x.members("PolicyNames", &page.items, |x, n| {
        super::xml::escape(n, x.buf_mut());
    });
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

fn delete(call: &Call<'_>, kind: EntityKind) -> Outcome {
    let (member, max) = owner_member(kind);
    let owner = name(call, member, max)?;
    let policy = name(call, "PolicyName", 128)?;
    call.store.delete_inline_policy(kind, owner, policy)?;
    Ok(None)
}

pub fn put_user(call: &Call<'_>) -> Outcome {
    put(call, EntityKind::User)
}
pub fn put_group(call: &Call<'_>) -> Outcome {
    put(call, EntityKind::Group)
}
pub fn put_role(call: &Call<'_>) -> Outcome {
    put(call, EntityKind::Role)
}
pub fn get_user(call: &Call<'_>) -> Outcome {
    get(call, EntityKind::User)
}
pub fn get_group(call: &Call<'_>) -> Outcome {
    get(call, EntityKind::Group)
}
pub fn get_role(call: &Call<'_>) -> Outcome {
    get(call, EntityKind::Role)
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
pub fn delete_user(call: &Call<'_>) -> Outcome {
    delete(call, EntityKind::User)
}
pub fn delete_group(call: &Call<'_>) -> Outcome {
    delete(call, EntityKind::Group)
}
pub fn delete_role(call: &Call<'_>) -> Outcome {
    delete(call, EntityKind::Role)
}
