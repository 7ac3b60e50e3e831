//! Groups and membership: CreateGroup, GetGroup (with its users), ListGroups, UpdateGroup,
//! DeleteGroup, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

use super::users::user_xml;
use super::xml::Xml;
use super::{name, path, path_prefix, validate, Call, Outcome};
use lambent_store::iam::Group;

fn group_xml(x: &mut Xml, g: &Group) {
    x.text("Path", &g.path)
        .text("GroupName", &g.name)
        .text("GroupId", &g.id)
        .text("Arn", &g.arn)
        .time("CreateDate", g.created);
}

pub fn create(call: &Call<'_>) -> Outcome {
    let group = call
        .store
        .create_group(name(call, "GroupName", 128)?, path(call, "Path")?)?;
    let mut x = Xml::new();
    x.open("Group");
    group_xml(&mut x, &group);
    x.close("Group");
    Ok(Some(x))
}

pub fn get(call: &Call<'_>) -> Outcome {
    let (group, users) = call
        .store
        .group_users(name(call, "GroupName", 128)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    x.open("Group");
    group_xml(&mut x, &group);
    x.close("Group");
    x.members("Users", &users.items, |x, u| user_xml(x, u, false));
    x.paging(users.marker.as_deref());
    Ok(Some(x))
}

pub fn list(call: &Call<'_>) -> Outcome {
    let page = call
        .store
        .list_groups(path_prefix(call)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    x.members("Groups", &page.items, group_xml);
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}

pub fn update(call: &Call<'_>) -> Outcome {
    let group = name(call, "GroupName", 128)?;
    let new_name = call.query.get("NewGroupName");
    if let Some(n) = new_name {
        validate::name("NewGroupName", n, 128)?;
    }
    call.store
        .update_group(group, new_name, path(call, "NewPath")?)?;
    Ok(None)
}

pub fn delete(call: &Call<'_>) -> Outcome {
    call.store.delete_group(name(call, "GroupName", 128)?)?;
    Ok(None)
}

pub fn add_user(call: &Call<'_>) -> Outcome {
    call.store
        .add_user_to_group(name(call, "GroupName", 128)?, name(call, "UserName", 64)?)?;
    Ok(None)
}

pub fn remove_user(call: &Call<'_>) -> Outcome {
    call.store
        .remove_user_from_group(name(call, "GroupName", 128)?, name(call, "UserName", 64)?)?;
    Ok(None)
}

pub fn for_user(call: &Call<'_>) -> Outcome {
    let page = call
        .store
        .list_groups_for_user(name(call, "UserName", 64)?, &call.query.paging()?)?;
    let mut x = Xml::new();
    x.members("Groups", &page.items, group_xml);
    x.paging(page.marker.as_deref());
    Ok(Some(x))
}
