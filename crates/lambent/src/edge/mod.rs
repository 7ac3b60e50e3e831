//! The edge: one listener for every AWS-shaped front door. It assigns request ids, bounds
//! what a client can make lambent hold (connections in total and per address, header and
//! body time, body size), authenticates every AWS-API request, and routes it to its service
//! by credential scope, `X-Amz-Target` or path, once the authorizer has allowed it. It knows
//! no operation of any service: the service's route table says how much of a body to read
//! (`crate::lambda::ROUTES`, `crate::logs::ROUTES`) and what action on which resource the
//! request is authorized as. `envelopes.rs` renders the protocols' errors, `admin.rs`
//! lambent's own `/_lambent/` endpoints (root only).
//!
//! Invariant: HTTP types end here; no operation runs unauthorized. Services receive an
//! authenticated, authorized [`ApiRequest`] with a body already read within its operation's
//! limit; S3, whose bodies are objects, is handed to s3s (`crate::s3`), which authenticates
//! it, asks the same authorizer in its access hook, and streams the body to the object store.

mod admin;
mod auth;
mod connections;
mod envelopes;

pub use envelopes::lambda_error;
use envelopes::{aws_json_error, logs_result};

use crate::auth::{Authorizer, KeyRing, Principal, RequestFacts, ResourcePolicy};
use crate::config::ConnectionLimits;
use crate::lambda::{self, ApiRequest, ApiResponse, Control};
use crate::logs::{self, LogStore};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use lambent_aws::lambda::LambdaError;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A client must send its request headers within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// ... and its whole body within this time.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the edge routes to.
pub struct App {
    pub control: Control,
    pub keyring: KeyRing,
    /// Asked before every operation of every service runs.
    pub authorizer: Authorizer,
    pub logs: LogStore,
    pub iam: crate::iam::Iam,
    /// The S3 API (s3s parses, authenticates and renders it; see `crate::s3`).
    pub s3: s3s::service::S3Service,
    pub sts: crate::sts::Sts,
}

/// What the edge answers with: a whole buffer for every API but S3, whose objects stream.
/// An enum, not a box: the invoke path's responses cost no extra allocation.
pub type EdgeBody = http_body_util::Either<Full<Bytes>, s3s::Body>;

/// Serves `listener` until `shutdown` resolves, holding at most `limits` connections.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let connections = connections::Connections::new(limits);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(permit) = connections.admit(peer.ip()) else {
            // Over its address's share or the total: closed now, before it costs a task or a
            // buffer, so the next connection in the backlog is accepted at once.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handle(&app, req, peer.ip()).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

async fn handle(app: &App, req: Request<Incoming>, client: IpAddr) -> Response<EdgeBody> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = if crate::s3::is_s3(&req) && !req.uri().path().starts_with("/_lambent/") {
        let expects_continue = req
            .headers()
            .get(http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        // The authorizer (in s3s's access hook) needs the client's address for aws:SourceIp.
        let mut req = req;
        req.extensions_mut().insert(crate::auth::ClientAddr(client));
        // s3s bounds nothing itself, but streams bodies to the object store's files, so
        // an upload's size costs disk, not memory.
        let mut resp = match app.s3.call(req.map(s3s::Body::from)).await {
            Ok(r) => r.map(http_body_util::Either::Right),
            Err(e) => {
                tracing::error!(error = ?e, "s3 request");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
                    .map(http_body_util::Either::Left)
            }
        };
        // An error answered to a client waiting for `100 Continue` (botocore's uploads): it
        // may or may not send the body now, so the connection's next bytes may be the body
        // or the next request. Close it rather than guess (RFC 9110, 10.1.1).
        if expects_continue && !resp.status().is_success() {
            resp.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    } else {
        match route(app, req, &request_id, client).await {
            Ok(r) => r,
            Err(e) => lambda_error(&e),
        }
        .map(http_body_util::Either::Left)
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    resp
}

/// Which AWS service a request is for.
enum Service {
    Lambda,
    Logs,
    Sts,
    Iam,
}

async fn route(
    app: &App,
    req: Request<Incoming>,
    request_id: &str,
    client: IpAddr,
) -> Result<Response<Full<Bytes>>, LambdaError> {
    let path = req.uri().path();
    if path == "/_lambent/health" {
        return Ok(plain(StatusCode::OK, "ok\n"));
    }
    if path == "/_lambent/metrics" {
        // Public, as Prometheus scrapes: counts and names, nothing secret.
        return Ok(admin::metrics(app));
    }
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let service = if target.starts_with(logs::TARGET_PREFIX) {
        Service::Logs
    } else if crate::sts::is_sts(&req) {
        Service::Sts
    } else if crate::iam::is_iam(req.headers(), req.uri().query()) {
        Service::Iam
    } else {
        Service::Lambda
    };
    // The services' route tables say how much of a body their operations take.
    let (limit, operation) = match service {
        Service::Lambda => {
            let segments = path_segments(path);
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            lambda::body_limit(req.method(), &segments)
        }
        Service::Logs => (logs::body_limit(&target), "logs"),
        Service::Sts => (crate::sts::MAX_BODY, "sts"),
        Service::Iam => (crate::iam::MAX_BODY, "IAM"),
    };
    let is_logs = matches!(service, Service::Logs);
    let too_large = || {
        LambdaError::RequestEntityTooLarge(format!(
            "Request must be smaller than {limit} bytes for the {operation} operation"
        ))
    };
    // Each protocol says "too large" in its own envelope.
    let refuse = |declared: Option<u64>| {
        if is_logs {
            let size = declared
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("over {limit}"));
            close(aws_json_error(&(
                "InvalidParameterException",
                format!("Upload too large: {size} bytes exceeds limit of {limit}"),
            )))
        } else {
            close(lambda_error(&too_large()))
        }
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(refuse(declared));
    }
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, limit).collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Ok(refuse(None)),
        Ok(Err(_)) => {
            return Ok(close(plain(StatusCode::BAD_REQUEST, "incomplete body\n")));
        }
        Err(_) => return Ok(close(plain(StatusCode::REQUEST_TIMEOUT, "body timeout\n"))),
    };
    let scope = auth::authenticate(&app.keyring, &parts, &body);
    let source_ip = client.to_string();
    // Each service's route table names the action and resource; the authorizer decides,
    // before the operation runs. `Err`: the decision and AWS's AccessDenied message.
    let authorize = |signer: &auth::Signer,
                     action: &str,
                     resource: &str,
                     keys: &[(&str, &str)],
                     resource_policy: ResourcePolicy<'_>| {
        let facts = RequestFacts {
            keys,
            resource_policy,
            ..RequestFacts::new(&source_ip, &signer.region)
        };
        let (decision, message) =
            app.authorizer
                .authorize(&signer.principal, action, resource, &facts);
        match message {
            None => Ok(decision),
            Some(m) => Err((decision, m)),
        }
    };
    // For the route tables that name an action and a resource only. `Ok(None)`: nothing to
    // authorize (no such operation, or GetCallerIdentity).
    let authorize_route =
        |signer: &auth::Signer, authorization: Option<(&str, String)>| match authorization {
            None => Ok(None),
            Some((action, resource)) => {
                authorize(signer, action, &resource, &[], ResourcePolicy::None).map(Some)
            }
        };
    match service {
        Service::Lambda => {
            let signer = scope.map_err(|e| e.lambda())?;
            if parts.uri.path().starts_with("/_lambent/") {
                // lambent's own endpoints take the root key (or its GetSessionToken keys).
                if signer.principal != Principal::Root {
                    let who = app.authorizer.evaluator_principal(&signer.principal).arn;
                    return Err(LambdaError::AccessDenied(format!(
                        "User: {who} is not authorized to perform: lambent:{} on resource: {} \
                         because lambent's own endpoints take the account's root credentials",
                        parts.uri.path().trim_start_matches("/_lambent/"),
                        parts.uri.path()
                    )));
                }
                if parts.uri.path() == "/_lambent/events/failed"
                    && parts.method == http::Method::GET
                {
                    return admin::failed_events(app, &parts);
                }
                if parts.uri.path() == "/_lambent/usage" && parts.method == http::Method::GET {
                    return admin::usage(app, &parts);
                }
                if parts.uri.path() == "/_lambent/doctor" && parts.method == http::Method::GET {
                    return admin::doctor(app);
                }
            }
            let req = api_request(parts, body, request_id);
            if let Some(a) = lambda::authorization(&req, app.control.region()) {
                // The function's permissions are read only if the caller's own policies do
                // not allow: they only ever allow.
                let permissions = || {
                    let (name, qualifier) = a.function.as_ref()?;
                    app.control.function_policy(name, qualifier.as_deref())
                };
                let keys: Vec<(&str, &str)> = a
                    .grants_to
                    .as_deref()
                    .map(|p| ("lambda:Principal", p))
                    .into_iter()
                    .collect();
                authorize(
                    &signer,
                    a.action,
                    &a.resource,
                    &keys,
                    ResourcePolicy::WhenDenied(&permissions),
                )
                .map_err(|(_, m)| LambdaError::AccessDenied(m))?;
                if let Some(role) = &a.passes_role {
                    authorize(
                        &signer,
                        "iam:PassRole",
                        role,
                        &[("iam:PassedToService", "lambda.amazonaws.com")],
                        ResourcePolicy::None,
                    )
                    .map_err(|(_, m)| LambdaError::AccessDenied(m))?;
                }
            }
            let resp = lambda::handle(&app.control, req).await?;
            Ok(api_response(resp))
        }
        Service::Logs => Ok(match scope {
            Err(e) => aws_json_error(&e.json_error()),
            Ok(signer) => {
                match authorize_route(
                    &signer,
                    logs::authorization(&target, &body, app.control.region()),
                ) {
                    Err((_, m)) => aws_json_error(&("AccessDeniedException", m)),
                    Ok(_) => logs_result(logs::handle(
                        &app.logs,
                        app.control.region(),
                        &target,
                        &body,
                    )),
                }
            }
        }),
        Service::Sts => {
            let query = parts.uri.query().unwrap_or("");
            let (caller, identity_allows) = match scope {
                Err(e) => (Err(e.query_error()), false),
                Ok(signer) => {
                    match authorize_route(&signer, crate::sts::authorization(query, &body)) {
                        Ok(_) => (Ok(signer.principal), true),
                        // AssumeRole: a trust policy naming the caller allows without its
                        // identity-based policies; an explicit deny is final everywhere.
                        Err((d, _))
                            if matches!(d.outcome, lambent_aws::iam::Outcome::ImplicitDeny(_))
                                && crate::sts::authorization(query, &body)
                                    .is_some_and(|(a, _)| a == "sts:AssumeRole") =>
                        {
                            (Ok(signer.principal), false)
                        }
                        Err((_, m)) => (Err((403, "AccessDenied", m)), false),
                    }
                }
            };
            Ok(app
                .sts
                .handle(caller, identity_allows, query, &body, request_id)
                .await)
        }
        Service::Iam => {
            let r = match scope {
                Err(e) => crate::iam::unauthenticated(&e.json_error(), request_id),
                Ok(signer) => {
                    let params = crate::iam::params(parts.uri.query(), &body);
                    let caller_user = match &signer.principal {
                        Principal::User { name, .. } => Some(name.as_str()),
                        _ => None,
                    };
                    let authorization =
                        crate::iam::authorization(&params, caller_user, app.authorizer.account());
                    match authorize_route(&signer, authorization) {
                        Err((_, m)) => crate::iam::access_denied(&m, request_id),
                        Ok(_) => {
                            app.iam
                                .handle(signer.principal, params, request_id.to_string())
                                .await
                        }
                    }
                }
            };
            Response::builder()
                .status(r.status)
                .header(http::header::CONTENT_TYPE, "text/xml")
                .body(Full::new(Bytes::from(r.body)))
                .map_err(|e| LambdaError::Service(e.to_string()))
        }
    }
}

/// A path's segments, percent-decoded (`/2015-03-31/functions/f` gives three).
fn path_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

fn api_request(parts: http::request::Parts, body: Bytes, request_id: &str) -> ApiRequest {
    let segments = path_segments(parts.uri.path());
    let query = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode_query(k), decode_query(v))
                })
                .collect()
        })
        .unwrap_or_default();
    ApiRequest {
        method: parts.method,
        segments,
        query,
        headers: parts.headers,
        body,
        request_id: request_id.to_string(),
    }
}

fn decode_query(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

fn api_response(resp: ApiResponse) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(resp.body))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad response header\n"))
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}

/// Asks hyper to close the connection after this response (the rest of the body is unread).
fn close(mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    r.headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    r
}
