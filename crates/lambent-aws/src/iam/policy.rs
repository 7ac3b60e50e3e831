//! Policy documents: parsed from JSON text, validated with AWS's `MalformedPolicyDocument`
//! messages, and compiled once (patterns and condition values read) for evaluation.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::condition::Condition;
use super::matcher::{ArnPattern, Pattern, Syntax};
use super::principal::PrincipalSet;

/// The role a document plays; it decides which elements are required or forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role (managed or inline): no Principal.
    Identity,
    /// Attached to a resource (bucket policy, function policy): Principal required.
    Resource,
    /// A role's assume-role policy: Principal required, no Resource.
    Trust,
    /// A permissions boundary: identity grammar.
    PermissionsBoundary,
    /// A session policy passed to AssumeRole/GetFederationToken: identity grammar.
    Session,
}

/// The size quota a document is checked against; AWS counts characters other than white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeLimit {
    /// Managed policies (and their versions): 6,144.
    Managed,
    /// Inline policies of the named user (2,048), role (10,240) or group (5,120).
    UserInline(String),
    RoleInline(String),
    GroupInline(String),
    /// A role's trust policy: 2,048 by default (`ACLSizePerRole`).
    Trust,
    /// No limit (resource policies have their own, service-specific ones).
    None,
}

impl SizeLimit {
    pub fn max_chars(&self) -> Option<usize> {
        match self {
            SizeLimit::Managed => Some(6144),
            SizeLimit::UserInline(_) | SizeLimit::Trust => Some(2048),
            SizeLimit::RoleInline(_) => Some(10240),
            SizeLimit::GroupInline(_) => Some(5120),
            SizeLimit::None => None,
        }
    }

    fn exceeded(&self, max: usize) -> PolicyError {
        PolicyError::LimitExceeded(match self {
            SizeLimit::UserInline(n) => {
                format!("Maximum policy size of {max} bytes exceeded for user {n}")
            }
            SizeLimit::RoleInline(n) => {
                format!("Maximum policy size of {max} bytes exceeded for role {n}")
            }
            SizeLimit::GroupInline(n) => {
                format!("Maximum policy size of {max} bytes exceeded for group {n}")
            }
            SizeLimit::Trust => format!("Cannot exceed quota for ACLSizePerRole: {max}"),
            SizeLimit::Managed | SizeLimit::None => {
                format!("Cannot exceed quota for PolicySize: {max}")
            }
        })
    }
}

/// Why a document was refused, with AWS's error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `MalformedPolicyDocument` (400).
    #[error("{0}")]
    Malformed(String),
    /// `LimitExceeded` (409).
    #[error("{0}")]
    LimitExceeded(String),
}

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Malformed(_) => "MalformedPolicyDocument",
            PolicyError::LimitExceeded(_) => "LimitExceeded",
        }
    }
}

fn malformed(msg: impl Into<String>) -> PolicyError {
    PolicyError::Malformed(msg.into())
}

pub(crate) const INVALID_JSON: &str = "This policy contains invalid Json";
pub(crate) const SYNTAX: &str = "Syntax errors in policy.";
const LEGACY: &str = "The policy failed legacy parsing";

/// Deeper JSON than this is refused before serde_json sees it (a real policy nests ~6 deep).
pub const MAX_DEPTH: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    kind: PolicyKind,
    id: Option<String>,
    /// Version 2012-10-17: policy variables are read.
    variables: bool,
    pub(crate) statements: Vec<Statement>,
}

/// One compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub(crate) actions: Matchers<Pattern>,
    /// `None` in trust policies, which match any resource (the role itself).
    pub(crate) resources: Option<Matchers<ArnPattern>>,
    /// `None` in identity-grammar documents.
    pub(crate) principals: Option<PrincipalSet>,
    pub(crate) conditions: Vec<Condition>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: patterns, and whether the list is negated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matchers<T> {
    pub negated: bool,
    pub patterns: Vec<T>,
}

impl Policy {
    /// Every ARN its statements' Principal and NotPrincipal elements name under `AWS`, for
    /// the caller to check they exist, as IAM does for a role's trust policy.
    pub fn principal_arns(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.principals.as_ref())
            .flat_map(|p| p.arns())
            .collect()
    }

    /// Parses and validates `text` as a document of `kind`, within `limit`.
    pub fn parse(text: &str, kind: PolicyKind, limit: &SizeLimit) -> Result<Policy, PolicyError> {
        if let Some(max) = limit.max_chars() {
            if text.chars().filter(|c| !c.is_whitespace()).count() > max {
                return Err(limit.exceeded(max));
            }
        }
        if nesting_depth(text) > MAX_DEPTH {
            return Err(malformed(SYNTAX));
        }
        let doc: Value = serde_json::from_str(text).map_err(|_| malformed(INVALID_JSON))?;
        let Value::Object(top) = doc else {
            return Err(malformed(SYNTAX));
        };
        let mut variables = false;
        let mut id = None;
        let mut statements = None;
        for (k, v) in &top {
            match k.as_str() {
                "Version" => match v.as_str() {
                    Some("2012-10-17") => variables = true,
                    Some("2008-10-17") => {}
                    _ => return Err(malformed(LEGACY)),
                },
                "Id" => id = Some(v.as_str().ok_or_else(|| malformed(SYNTAX))?.to_owned()),
                "Statement" => statements = Some(v),
                _ => return Err(malformed(SYNTAX)),
            }
        }
        let list: Vec<&Value> = match statements {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(o @ Value::Object(_)) => vec![o],
            _ => return Err(malformed(SYNTAX)),
        };
        let mut sids = HashSet::new();
        let mut compiled = Vec::with_capacity(list.len());
        for s in list {
            let Value::Object(s) = s else {
                return Err(malformed(SYNTAX));
            };
            let st = statement(s, kind, variables)?;
            if let Some(sid) = &st.sid {
                if !sids.insert(sid.clone()) {
                    return Err(malformed(
                        "Statement IDs (SID) in a single policy must be unique.",
                    ));
                }
            }
            compiled.push(st);
        }
        Ok(Policy {
            kind,
            id,
            variables,
            statements: compiled,
        })
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Whether the document is Version 2012-10-17 (policy variables are substituted).
    pub fn has_variables(&self) -> bool {
        self.variables
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// The deepest nesting of `[`/`{` outside strings: a cheap scan that lets 10,000-deep input be
/// refused without recursion.
pub(crate) fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn identity_grammar(kind: PolicyKind) -> bool {
    matches!(
        kind,
        PolicyKind::Identity | PolicyKind::PermissionsBoundary | PolicyKind::Session
    )
}

fn statement(
    s: &Map<String, Value>,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    const KNOWN: &[&str] = &[
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    ];
    if s.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return Err(malformed(SYNTAX));
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err(malformed(SYNTAX)),
    };
    if let Some(sid) = &sid {
        if matches!(kind, PolicyKind::Identity | PolicyKind::PermissionsBoundary)
            && !sid.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(malformed(
                "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
            ));
        }
    }
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(malformed(SYNTAX)),
    };

    let principal = either(s, "Principal", "NotPrincipal")?;
    let principals = if identity_grammar(kind) {
        if principal.is_some() {
            return Err(malformed("Policy document should not specify a principal."));
        }
        None
    } else {
        let (negated, value) =
            principal.ok_or_else(|| malformed("Missing required field Principal"))?;
        Some(PrincipalSet::parse(value, negated)?)
    };

    let (negated, value) = either(s, "Action", "NotAction")?
        .ok_or_else(|| malformed("Policy statement must contain actions."))?;
    let names = strings(value)?;
    if names.is_empty() {
        return Err(malformed("Policy statement must contain actions."));
    }
    let mut actions = Vec::with_capacity(names.len());
    for name in &names {
        let has_vendor = name.split_once(':').is_some_and(|(v, _)| !v.is_empty());
        if name != "*" && !has_vendor {
            return Err(malformed(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            ));
        }
        // Actions never hold policy variables.
        actions.push(Pattern::compile(
            name,
            Syntax {
                wildcards: true,
                variables: false,
            },
        ));
    }
    let actions = Matchers {
        negated,
        patterns: actions,
    };

    let resource = either(s, "Resource", "NotResource")?;
    let resources = if kind == PolicyKind::Trust {
        if let Some((negated, _)) = resource {
            let field = if negated { "NotResource" } else { "Resource" };
            return Err(malformed(format!("Has prohibited field {field}")));
        }
        None
    } else {
        let (negated, value) =
            resource.ok_or_else(|| malformed("Policy statement must contain resources."))?;
        let arns = strings(value)?;
        if arns.is_empty() {
            return Err(malformed("Policy statement must contain resources."));
        }
        let mut patterns = Vec::with_capacity(arns.len());
        for arn in &arns {
            if !ArnPattern::is_valid_resource(arn, variables) {
                return Err(malformed(format!(
                    "Resource {arn} must be in ARN format or \"*\"."
                )));
            }
            patterns.push(ArnPattern::compile(
                arn,
                Syntax {
                    wildcards: true,
                    variables,
                },
            ));
        }
        Some(Matchers { negated, patterns })
    };

    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(block)) => conditions(block, variables)?,
        Some(_) => return Err(malformed(SYNTAX)),
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

/// The one of `positive`/`negative` that is present, with `true` for the negative; both is a
/// syntax error.
fn either<'a>(
    s: &'a Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (s.get(positive), s.get(negative)) {
        (Some(_), Some(_)) => Err(malformed(SYNTAX)),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

/// A string or an array of strings (Action, Resource, principal values).
pub(crate) fn strings(v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(SYNTAX))
            })
            .collect(),
        _ => Err(malformed(SYNTAX)),
    }
}

/// A condition value or list of them; numbers and booleans are read as AWS does, as text.
fn scalars(v: &Value) -> Result<Vec<String>, PolicyError> {
    fn one(v: &Value) -> Result<String, PolicyError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(malformed(SYNTAX)),
        }
    }
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}

fn conditions(block: &Map<String, Value>, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (operator, keys) in block {
        let Value::Object(keys) = keys else {
            return Err(malformed(SYNTAX));
        };
        for (key, values) in keys {
            let values = scalars(values)?;
            let c = Condition::compile(operator, key, &values, variables)
                .map_err(|e| malformed(format!("Invalid Condition type : {}", e.0)))?;
            out.push(c);
        }
        if keys.is_empty() {
            // An operator with no keys still has to be a real operator.
            Condition::compile(operator, "", &[], variables)
                .map_err(|e| malformed(format!("Invalid Condition type : {}", e.0)))?;
        }
    }
    Ok(out)
}
