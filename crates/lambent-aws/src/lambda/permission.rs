//! A function's resource-based policy, as AddPermission builds it and GetPolicy returns it.

use serde::{Deserialize, Serialize};
/// A function's resource-based policy (AddPermission), for one qualifier: its statements in
/// the order they were added, and the `RevisionId` GetPolicy reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub statements: Vec<PermissionStatement>,
    pub revision_id: String,
}

/// The most bytes AWS keeps in one function policy document.
pub const MAX_POLICY_LEN: usize = 20_480;

/// The document as GetPolicy returns it; the fields serialize in AWS's order.
#[derive(Serialize)]
struct PolicyDocument<'a> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Id")]
    id: &'static str,
    #[serde(rename = "Statement")]
    statement: &'a [PermissionStatement],
}

impl ResourcePolicy {
    /// The policy's JSON text, keys in AWS's order.
    pub fn document(&self) -> String {
        serde_json::to_string(&PolicyDocument {
            version: "2012-10-17",
            id: "default",
            statement: &self.statements,
        })
        .unwrap_or_default()
    }
}

/// One statement AddPermission builds, field for field as AWS returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionStatement {
    pub sid: String,
    pub effect: String,
    pub principal: PermissionPrincipal,
    pub action: String,
    pub resource: String,
    #[serde(default, skip_serializing_if = "PermissionCondition::is_empty")]
    pub condition: PermissionCondition,
}

/// `"*"`, `{"AWS": arn}` or `{"Service": name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PermissionPrincipal {
    Any(String),
    Aws {
        #[serde(rename = "AWS")]
        aws: String,
    },
    Service {
        #[serde(rename = "Service")]
        service: String,
    },
}

/// The conditions AddPermission's optional fields become: `StringEquals` before `ArnLike`,
/// as AWS writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionCondition {
    #[serde(
        rename = "StringEquals",
        default,
        skip_serializing_if = "StringEquals::is_empty"
    )]
    pub string_equals: StringEquals,
    #[serde(rename = "ArnLike", default, skip_serializing_if = "Option::is_none")]
    pub arn_like: Option<ArnLike>,
}

impl PermissionCondition {
    pub fn is_empty(&self) -> bool {
        self.string_equals.is_empty() && self.arn_like.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StringEquals {
    #[serde(
        rename = "AWS:SourceAccount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_account: Option<String>,
    #[serde(
        rename = "lambda:EventSourceToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_source_token: Option<String>,
    #[serde(
        rename = "lambda:FunctionUrlAuthType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub function_url_auth_type: Option<String>,
    #[serde(
        rename = "aws:PrincipalOrgID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub principal_org_id: Option<String>,
}

impl StringEquals {
    pub fn is_empty(&self) -> bool {
        self.source_account.is_none()
            && self.event_source_token.is_none()
            && self.function_url_auth_type.is_none()
            && self.principal_org_id.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArnLike {
    #[serde(rename = "AWS:SourceArn")]
    pub source_arn: String,
}
