//! GetCallerIdentity, and the caller as an IAM principal (its ARN, user id and account),
//! which AssumeRole's trust evaluation also needs.

use super::query::{Params, Xml};
use super::{Sts, StsError};
use crate::auth::{Principal, RoleSession};
use lambent_aws::iam::{self, PrincipalKind};
use lambent_store::iam::IamError;
use sha2::Digest;

/// Who the caller is, in AWS's words.
pub struct Identity {
    pub arn: String,
    /// `aws:userid`: the account id for root, `AROA...:SESSION` for a role session.
    pub user_id: String,
    pub account: String,
}

impl Sts {
    /// The caller's identity; a role session's id comes from the IAM store when the role is
    /// there.
    pub(super) fn identity(&self, caller: &Principal) -> Result<Identity, StsError> {
        Ok(match caller {
            Principal::Root => Identity {
                arn: format!("arn:aws:iam::{}:root", self.account()),
                user_id: self.account().to_string(),
                account: self.account().to_string(),
            },
            Principal::User { arn, id, .. } => Identity {
                arn: arn.clone(),
                user_id: id.clone(),
                account: self.account().to_string(),
            },
            Principal::Role(session) => Identity {
                arn: session.arn(),
                user_id: format!("{}:{}", self.role_id(session)?, session.session_name),
                account: session.account().to_string(),
            },
        })
    }

    /// The role's unique id: the session's, the IAM store's, or, for an environment whose
    /// role the store does not hold (functions name any role ARN), one derived from the ARN,
    /// so it is the same on every call.
    fn role_id(&self, session: &RoleSession) -> Result<String, StsError> {
        if let Some(id) = &session.role_id {
            return Ok(id.clone());
        }
        if session.account() == self.account() {
            match self.iam.role(session.role_name()) {
                Ok(role) if role.arn == session.role_arn => return Ok(role.id),
                Ok(_) | Err(IamError::NoSuchEntity { .. }) => {}
                Err(e) => return Err(StsError::internal("reading the role", e)),
            }
        }
        Ok(derived_role_id(&session.role_arn))
    }

    /// The caller as the policy evaluator sees it.
    pub(super) fn evaluator_principal(
        &self,
        caller: &Principal,
    ) -> Result<iam::Principal, StsError> {
        let id = self.identity(caller)?;
        let kind = match caller {
            Principal::Root => PrincipalKind::Root,
            Principal::Role(_) => PrincipalKind::AssumedRole,
            Principal::User { .. } => PrincipalKind::User,
        };
        let mut p = iam::Principal::new(kind, &id.arn, &id.account);
        p.user_id = id.user_id;
        if let Principal::User { name, .. } = caller {
            p.username = Some(name.clone());
        }
        if let Principal::Role(session) = caller {
            p.role_arn = Some(session.role_arn.clone());
            p.tags = session.tags.clone();
        }
        Ok(p)
    }
}

/// `AROA` and 17 characters of the ARN's SHA-256, in AWS's alphabet.
fn derived_role_id(role_arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = sha2::Sha256::digest(role_arn.as_bytes());
    let mut id = String::from("AROA");
    id.extend(
        digest
            .iter()
            .take(17)
            .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char),
    );
    id
}

pub(super) fn get_caller_identity(
    sts: &Sts,
    caller: &Principal,
    _params: &Params,
    _identity_allows: bool,
) -> Result<Xml, StsError> {
    let id = sts.identity(caller)?;
    let mut xml = Xml::default();
    xml.elem("Arn", &id.arn)
        .elem("UserId", &id.user_id)
        .elem("Account", &id.account);
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_role_ids_are_stable_and_shaped_like_aws() {
        let a = derived_role_id("arn:aws:iam::123456789012:role/r");
        assert_eq!(a, derived_role_id("arn:aws:iam::123456789012:role/r"));
        assert_ne!(a, derived_role_id("arn:aws:iam::123456789012:role/s"));
        assert_eq!(a.len(), 21);
        assert!(a.starts_with("AROA"));
    }
}
