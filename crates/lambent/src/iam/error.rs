//! The IAM API's errors: AWS's code, HTTP status and message, rendered in the query
//! protocol's `<ErrorResponse>` envelope by `xml.rs`. The store's refusals are mapped here,
//! per variant, with AWS's wording; the store's own failures become `ServiceFailure` (500)
//! and are logged, never shown.

use lambent_aws::iam::PolicyError;
use lambent_store::iam::{ConflictReason, EntityKind, IamError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamApiError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

impl IamApiError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> IamApiError {
        IamApiError {
            code,
            status,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> IamApiError {
        IamApiError::new("ValidationError", 400, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> IamApiError {
        IamApiError::new("InvalidInput", 400, message)
    }

    pub fn no_such_entity(message: impl Into<String>) -> IamApiError {
        IamApiError::new("NoSuchEntity", 404, message)
    }

    /// `Sender` for the client's mistakes, `Receiver` for lambent's.
    pub fn kind(&self) -> &'static str {
        if self.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        }
    }

    /// For Attach*Policy: a policy that is missing is "not attachable".
    pub fn not_attachable(e: IamError, arn: &str) -> IamApiError {
        match e {
            IamError::NoSuchEntity {
                kind: EntityKind::Policy,
                ..
            } => IamApiError::no_such_entity(format!(
                "Policy {arn} does not exist or is not attachable."
            )),
            other => other.into(),
        }
    }
}

impl From<PolicyError> for IamApiError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::Malformed(m) => IamApiError::new("MalformedPolicyDocument", 400, m),
            PolicyError::LimitExceeded(m) => IamApiError::new("LimitExceeded", 409, m),
        }
    }
}

fn conflict_message(reason: ConflictReason) -> &'static str {
    match reason {
        ConflictReason::AccessKeys => "Cannot delete entity, must delete access keys first.",
        ConflictReason::GroupMemberships => {
            "Cannot delete entity, must remove referenced objects first."
        }
        ConflictReason::AttachedPolicies => "Cannot delete entity, must detach all policies first.",
        ConflictReason::InlinePolicies => "Cannot delete entity, must delete policies first.",
        ConflictReason::GroupMembers => "Cannot delete entity, must remove users from group first.",
        ConflictReason::PolicyAttached => "Cannot delete a policy attached to entities.",
        ConflictReason::NonDefaultVersions => {
            "This policy has more than one version. Before you delete a policy, you must delete \
             the policy's versions. The default version is deleted with the policy."
        }
        ConflictReason::DefaultVersion => "Cannot delete the default version of a policy.",
    }
}

impl From<IamError> for IamApiError {
    fn from(e: IamError) -> Self {
        match e {
            IamError::AlreadyExists { kind, name } => {
                let noun = match kind {
                    EntityKind::User => "User",
                    EntityKind::Group => "Group",
                    EntityKind::Role => "Role",
                    EntityKind::Policy => "A policy called",
                    _ => "Entity",
                };
                let message = match kind {
                    EntityKind::OidcProvider => format!("Provider with url {name} already exists."),
                    EntityKind::Policy => {
                        format!("{noun} {name} already exists. Duplicate names are not allowed.")
                    }
                    _ => format!("{noun} with name {name} already exists."),
                };
                IamApiError::new("EntityAlreadyExists", 409, message)
            }
            IamError::NoSuchEntity { kind, name } => IamApiError::no_such_entity(match kind {
                EntityKind::Policy => format!("Policy {name} was not found."),
                EntityKind::PolicyVersion => format!("Policy version {name} does not exist."),
                EntityKind::OidcProvider => {
                    format!("OpenIDConnect provider not found for arn {name}")
                }
                EntityKind::AccessKey => {
                    format!("The Access Key with id {name} cannot be found.")
                }
                other => format!("The {} with name {name} cannot be found.", other.noun()),
            }),
            IamError::DeleteConflict { reason, .. } => {
                IamApiError::new("DeleteConflict", 409, conflict_message(reason))
            }
            IamError::LimitExceeded { quota, limit } => IamApiError::new(
                "LimitExceeded",
                409,
                format!("Cannot exceed quota for {quota}: {limit}"),
            ),
            IamError::Unmodifiable { arn } => IamApiError::new(
                "UnmodifiableEntity",
                400,
                format!("Cannot modify the AWS-managed policy {arn}."),
            ),
            IamError::InvalidInput { message } => IamApiError::invalid_input(message),
            other => {
                tracing::error!(error = %other, "iam store");
                IamApiError::new(
                    "ServiceFailure",
                    500,
                    "The request processing has failed because of an unknown error, exception or failure.",
                )
            }
        }
    }
}
