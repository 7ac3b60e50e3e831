//! GetSessionToken, and the `<Credentials>` element every issuing operation returns.

use super::query::{Params, Xml};
use super::validate::Violations;
use super::{Sts, StsError};
use crate::auth::{IssuedCredentials, Principal};
use std::time::{Duration, SystemTime};

/// Twelve hours, GetSessionToken's default.
const DEFAULT_DURATION: i64 = 43_200;
/// AWS caps the root user's sessions at one hour, silently.
const ROOT_MAX_DURATION: i64 = 3_600;

pub(super) fn get_session_token(
    sts: &Sts,
    caller: &Principal,
    params: &Params,
    _identity_allows: bool,
) -> Result<Xml, StsError> {
    let mut v = Violations::default();
    let duration = v.integer(
        params.get("DurationSeconds"),
        "durationSeconds",
        900,
        129_600,
    )?;
    v.text(params.get("SerialNumber"), "serialNumber", 9, 256, None);
    v.text(params.get("TokenCode"), "tokenCode", 6, 6, None);
    v.finish()?;
    let duration = match caller {
        Principal::Root => duration.unwrap_or(DEFAULT_DURATION).min(ROOT_MAX_DURATION),
        // A user's session is the user, with its policies, for up to 36 hours.
        Principal::User { .. } => duration.unwrap_or(DEFAULT_DURATION),
        // Only users' long-term keys and root may ask.
        Principal::Role(_) => {
            return Err(StsError::access_denied(
                "Cannot call GetSessionToken with session credentials",
            ))
        }
    };
    let issued = sts
        .keyring
        .issue_expiring(caller.clone(), Duration::from_secs(duration as u64));
    let mut xml = Xml::default();
    credentials(&mut xml, &issued);
    Ok(xml)
}

/// `<Credentials>`: key, secret, token and expiration.
pub(super) fn credentials(xml: &mut Xml, issued: &IssuedCredentials) {
    let c = &issued.credentials;
    xml.open("Credentials")
        .elem("AccessKeyId", &c.access_key_id)
        .elem("SecretAccessKey", &c.secret_access_key)
        .elem("SessionToken", &c.session_token)
        .elem("Expiration", &timestamp(issued.expiration))
        .close("Credentials");
}

/// ISO 8601 in UTC to the second, as AWS writes `Expiration`.
fn timestamp(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}
