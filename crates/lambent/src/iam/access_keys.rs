//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey and
//! GetAccessKeyLastUsed. The keys made here do not sign requests yet (see ARCHITECTURE.md):
//! the key ring accepts them only once authorization is enforced.

use super::xml::Xml;
use super::{user_name_or_caller, validate, Call, IamApiError, Outcome};
use lambent_store::iam::KeyStatus;

/// The user whose keys are meant: `UserName`, or the caller, which must then be a user.
fn owner<'a>(call: &'a Call<'_>) -> Result<Option<&'a str>, IamApiError> {
    user_name_or_caller(call)
}

fn status(call: &Call<'_>) -> Result<KeyStatus, IamApiError> {
    match call.query.required("Status")? {
        "Active" => Ok(KeyStatus::Active),
        "Inactive" => Ok(KeyStatus::Inactive),
        other => Err(IamApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'status' failed to satisfy \
             constraint: Member must satisfy enum value set: [Active, Inactive]"
        ))),
    }
}

fn key_id<'a>(call: &'a Call<'_>) -> Result<&'a str, IamApiError> {
    let id = call.query.required("AccessKeyId")?;
    validate::access_key_id(id)?;
    Ok(id)
}

/// The root user's own keys are lambent's root credentials, not managed here.
fn root_keys() -> IamApiError {
    IamApiError::invalid_input(
        "lambent's root access key is managed by `lambent credentials`; pass UserName",
    )
}

pub fn create(call: &Call<'_>) -> Outcome {
    let user = owner(call)?.ok_or_else(root_keys)?;
    let key = call.store.create_access_key(user)?;
    let mut x = Xml::new();
    x.open("AccessKey")
        .text("UserName", &key.user_name)
        .text("AccessKeyId", &key.id)
        .text("Status", key.status.as_str())
        .text("SecretAccessKey", &key.secret)
        .time("CreateDate", key.created)
        .close("AccessKey");
    Ok(Some(x))
}

pub fn list(call: &Call<'_>) -> Outcome {
    let keys = match owner(call)? {
        Some(user) => call.store.list_access_keys(user)?,
        None => Vec::new(),
    };
    let paging = call.query.paging()?;
    let mut x = Xml::new();
    x.members("AccessKeyMetadata", &keys, |x, k| {
        x.text("UserName", &k.user_name)
            .text("AccessKeyId", &k.id)
            .text("Status", k.status.as_str())
            .time("CreateDate", k.created);
    });
    // Two keys at most: one page always holds them all.
    let _ = paging;
    x.paging(None);
    Ok(Some(x))
}

pub fn update(call: &Call<'_>) -> Outcome {
    let id = key_id(call)?;
    let status = status(call)?;
    let user = owner(call)?.ok_or_else(root_keys)?;
    call.store.update_access_key_status(user, id, status)?;
    Ok(None)
}

pub fn delete(call: &Call<'_>) -> Outcome {
    let id = key_id(call)?;
    let user = owner(call)?.ok_or_else(root_keys)?;
    call.store.delete_access_key(user, id)?;
    Ok(None)
}

pub fn last_used(call: &Call<'_>) -> Outcome {
    let id = key_id(call)?;
    let (user, used) = call.store.access_key_last_used(id)?;
    let mut x = Xml::new();
    x.text("UserName", &user).open("AccessKeyLastUsed");
    match used {
        Some(u) => {
            x.time("LastUsedDate", u.at)
                .text("ServiceName", &u.service)
                .text("Region", &u.region);
        }
        None => {
            x.text("ServiceName", "N/A").text("Region", "N/A");
        }
    }
    x.close("AccessKeyLastUsed");
    Ok(Some(x))
}
