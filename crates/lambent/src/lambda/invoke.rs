//! Invoke: parses the call into an [`Invocation`], picks the version (weighted aliases
//! included), and turns the scheduler's [`Completed`] into Lambda's response.

use super::{ApiRequest, ApiResponse, Control};
use crate::invocation::{Completed, Invocation, Outcome, Resolved};
use base64::Engine;
use bytes::Bytes;
use lambent_aws::arn::{FunctionRef, FunctionRefError};
use lambent_aws::lambda::LambdaError;

/// Synchronous request payload limit.
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// An `Event` invocation's payload limit: 1 MB since AWS raised it in October 2025.
pub const MAX_EVENT_PAYLOAD: usize = 1024 * 1024;
/// The deprecated InvokeAsync kept the old asynchronous limit.
pub const MAX_INVOKE_ASYNC_PAYLOAD: usize = 256 * 1024;
/// Decoded `X-Amz-Client-Context` limit.
const MAX_CLIENT_CONTEXT: usize = 3583;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sync,
    Async,
    DryRun,
}

pub async fn invoke(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let kind = match req.header("X-Amz-Invocation-Type") {
        None | Some("RequestResponse") => Kind::Sync,
        Some("Event") => Kind::Async,
        Some("DryRun") => Kind::DryRun,
        Some(other) => {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )))
        }
    };
    let tail = match req.header("X-Amz-Log-Type") {
        None | Some("None") => false,
        Some("Tail") => kind == Kind::Sync,
        Some(other) => {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]"
            )))
        }
    };
    let async_limit = (kind == Kind::Async).then_some(MAX_EVENT_PAYLOAD);
    let payload = checked_payload(&req.body, async_limit)?;
    let client_context = client_context(req.header("X-Amz-Client-Context"))?;
    let resolved = ctl.resolve_for_invoke(f, req.query("Qualifier"))?;
    let inv = Invocation {
        request_id: req.request_id.clone(),
        payload,
        invoked_arn: resolved.invoked_arn.clone(),
        client_context,
        tail,
        lineage: None,
    };
    match kind {
        Kind::DryRun => Ok(ApiResponse::empty(204)),
        Kind::Async => {
            let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
            accept_async(ctl, &name, qualifier.as_deref(), inv).await?;
            Ok(ApiResponse::empty(202))
        }
        Kind::Sync => {
            let completed = ctl
                .scheduler()
                .invoke(resolved.config(), &resolved.code_dir, inv)
                .await
                .map_err(|reason| LambdaError::TooManyRequests { reason })?;
            Ok(sync_response(completed))
        }
    }
}

/// The deprecated InvokeAsync: the body is the event, the answer 202 `{"Status":202}`.
pub async fn invoke_async_legacy(
    ctl: &Control,
    f: &str,
    req: &ApiRequest,
) -> Result<ApiResponse, LambdaError> {
    let payload = checked_payload(&req.body, Some(MAX_INVOKE_ASYNC_PAYLOAD))?;
    let resolved = ctl.resolve_for_invoke(f, None)?;
    let inv = Invocation {
        request_id: req.request_id.clone(),
        payload,
        invoked_arn: resolved.invoked_arn.clone(),
        client_context: None,
        tail: false,
        lineage: None,
    };
    let (name, _) = ctl.resolve_name(f, None)?;
    accept_async(ctl, &name, None, inv).await?;
    Ok(ApiResponse::json(202, &serde_json::json!({"Status": 202})))
}

/// Size and JSON checks, with the asynchronous limit when the payload is an event's; an
/// empty body becomes `{}`.
fn checked_payload(body: &Bytes, async_limit: Option<usize>) -> Result<Bytes, LambdaError> {
    if let Some(limit) = async_limit.filter(|limit| body.len() > *limit) {
        return Err(LambdaError::RequestEntityTooLarge(format!(
            "{} byte payload is too large for the Event invocation type (limit {limit} bytes)",
            body.len()
        )));
    }
    if body.len() > MAX_SYNC_PAYLOAD {
        return Err(LambdaError::RequestEntityTooLarge(format!(
            "Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Bytes::from_static(b"{}"));
    }
    // The JSON skimmer below does not look inside strings; AWS rejects invalid UTF-8 anywhere.
    if let Err(e) = std::str::from_utf8(body) {
        return Err(LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 at byte {}",
            e.valid_up_to()
        )));
    }
    if let Some(depth) = too_deep(body) {
        return Err(LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: Document nesting depth ({depth}) exceeds the maximum allowed ({MAX_NESTING})"
        )));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| {
        LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        ))
    })?;
    Ok(body.clone())
}

/// The deepest nesting AWS's JSON parser accepts in a payload.
const MAX_NESTING: usize = 1000;

/// Scans for nesting deeper than [`MAX_NESTING`] without building anything: a hostile
/// payload costs one pass and no stack.
fn too_deep(body: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn client_context(header: Option<&str>) -> Result<Option<String>, LambdaError> {
    let Some(h) = header else { return Ok(None) };
    let invalid = || {
        LambdaError::InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object.".into(),
        )
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(h.trim())
        .map_err(|_| invalid())?;
    if raw.len() > MAX_CLIENT_CONTEXT {
        return Err(LambdaError::InvalidParameterValue(
            "Client context must be smaller than 3583 bytes.".into(),
        ));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&raw).map_err(|_| invalid())?;
    String::from_utf8(raw).map(Some).map_err(|_| invalid())
}

fn sync_response(c: Completed) -> ApiResponse {
    let mut headers = vec![
        ("X-Amz-Executed-Version", c.executed_version),
        (
            "Content-Type",
            c.content_type
                .unwrap_or_else(|| "application/json".to_string()),
        ),
    ];
    if c.outcome != Outcome::Ok {
        headers.push(("X-Amz-Function-Error", "Unhandled".into()));
    }
    if let Some(tail) = c.log_tail {
        headers.push((
            "X-Amz-Log-Result",
            base64::engine::general_purpose::STANDARD.encode(tail),
        ));
    }
    ApiResponse {
        status: 200,
        headers,
        body: c.payload,
    }
}

/// Stores an accepted event in the durable queue; the `202` goes out only once it is
/// committed (see `events`).
async fn accept_async(
    ctl: &Control,
    function: &str,
    qualifier: Option<&str>,
    inv: Invocation,
) -> Result<(), LambdaError> {
    let event = lambent_store::queue::NewEvent {
        request_id: inv.request_id,
        function: function.to_string(),
        qualifier: qualifier.map(str::to_string),
        payload: inv.payload.to_vec(),
        client_context: inv.client_context,
        enqueued_ms: crate::logs::now_millis(),
        // AWS does not follow chains through direct invocations.
        lineage: None,
    };
    ctl.events()
        .accept(event)
        .await
        .map(|_| ())
        .map_err(|e| LambdaError::Service(e.to_string()))
}

impl Control {
    /// Picks the version a call runs: `$LATEST`, a number, or an alias (by weight).
    pub fn resolve_for_invoke(
        &self,
        raw: &str,
        qualifier: Option<&str>,
    ) -> Result<Resolved, LambdaError> {
        // Invoke names the version it looked for: `$LATEST` when none was given.
        if matches!(FunctionRef::parse(raw), Err(FunctionRefError::NameTooLong)) {
            return Err(LambdaError::function_not_found(
                self.arn(raw, Some("$LATEST")),
            ));
        }
        let (name, qualifier) = self.resolve_name(raw, qualifier)?;
        let not_found = || {
            LambdaError::function_not_found(
                self.arn(&name, Some(qualifier.as_deref().unwrap_or("$LATEST"))),
            )
        };
        let record = self.get(&name).ok_or_else(not_found)?;
        let version = match qualifier.as_deref() {
            None | Some("$LATEST") => "$LATEST",
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => q,
            Some(alias) => {
                let a = record.aliases.get(alias).ok_or_else(not_found)?;
                pick_weighted(&a.function_version, a.routing_config.as_ref())
            }
        };
        let number = match version {
            "$LATEST" => None,
            n => Some(
                n.parse::<u64>()
                    .ok()
                    .filter(|n| record.versions.contains_key(n))
                    .ok_or_else(not_found)?,
            ),
        };
        let code_sha256 = match number {
            Some(n) => &record.versions[&n].code_sha256,
            None => &record.latest.code_sha256,
        };
        Ok(Resolved::new(
            record.clone(),
            number,
            self.code_dir(code_sha256),
            self.arn(&name, qualifier.as_deref()),
        ))
    }
}

fn pick_weighted<'a>(
    primary: &'a str,
    routing: Option<&'a lambent_aws::lambda::model::AliasRoutingConfiguration>,
) -> &'a str {
    if let Some((v, w)) = routing.and_then(|r| r.additional_version_weights.iter().next()) {
        if rand::random::<f64>() < *w {
            return v;
        }
    }
    primary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_checks() {
        assert_eq!(
            checked_payload(&Bytes::new(), None).unwrap(),
            Bytes::from_static(b"{}")
        );
        assert!(matches!(
            checked_payload(&Bytes::from_static(b"{\"a\":"), None),
            Err(LambdaError::InvalidRequestContent(_))
        ));
        let deep = Bytes::from(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)));
        assert!(matches!(
            checked_payload(&deep, None),
            Err(LambdaError::InvalidRequestContent(_))
        ));
        let event = Bytes::from(vec![b' '; MAX_EVENT_PAYLOAD]);
        assert!(checked_payload(&event, Some(MAX_EVENT_PAYLOAD)).is_ok());
        let big = Bytes::from(vec![b' '; MAX_EVENT_PAYLOAD + 1]);
        match checked_payload(&big, Some(MAX_EVENT_PAYLOAD)) {
            Err(LambdaError::RequestEntityTooLarge(m)) => assert_eq!(
                m,
                "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            checked_payload(&event, Some(MAX_INVOKE_ASYNC_PAYLOAD)),
            Err(LambdaError::RequestEntityTooLarge(_))
        ));
    }

    #[test]
    fn weighted_routing_picks_both() {
        let mut weights = std::collections::BTreeMap::new();
        weights.insert("2".to_string(), 0.5);
        let routing = lambent_aws::lambda::model::AliasRoutingConfiguration {
            additional_version_weights: weights,
        };
        let picks: Vec<&str> = (0..200)
            .map(|_| pick_weighted("1", Some(&routing)))
            .collect();
        assert!(picks.contains(&"1"));
        assert!(picks.contains(&"2"));
    }
}
