//! The edge: one listener for every AWS-shaped front door. It assigns request ids, bounds
//! what a client can make lambent hold (connections in total and per address, header and
//! body time, body size), authenticates every AWS-API request, and routes it to its service.
//!
//! Invariant: HTTP types end here. Services receive an authenticated [`ApiRequest`] with a
//! body already read within its operation's limit; S3, whose bodies are objects, is handed
//! to s3s (`crate::s3`), which authenticates it and streams the body to the object store.

mod auth;
mod connections;
mod logs_api;

pub use connections::{ConnectionLimits, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS};

use crate::auth::KeyRing;
use crate::control::{self, ApiRequest, ApiResponse, Control};
use crate::logs::LogStore;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use lambent_aws::lambda::LambdaError;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A client must send its request headers within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// ... and its whole body within this time.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// CreateFunction and UpdateFunctionCode bodies (AWS's limit).
const MAX_CONTROL_BODY: usize = 70_167_211;
/// Bodies of every other API call.
const MAX_SMALL_BODY: usize = 1024 * 1024;
/// A Logs request's JSON: PutLogEvents may carry 1,048,576 bytes of events (counted as
/// AWS counts them), which JSON escaping can make several times larger on the wire.
const MAX_LOGS_BODY: usize = 8 * 1024 * 1024;

/// What the edge routes to.
pub struct App {
    pub control: Control,
    pub keyring: KeyRing,
    pub logs: LogStore,
    pub iam: crate::iam::Iam,
    /// The S3 API (s3s parses, authenticates and renders it; see `crate::s3`).
    pub s3: s3s::service::S3Service,
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
                async move { Ok::<_, Infallible>(handle(&app, req).await) }
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

async fn handle(app: &App, req: Request<Incoming>) -> Response<EdgeBody> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = if crate::s3::is_s3(&req) && !req.uri().path().starts_with("/_lambent/") {
        // s3s bounds nothing itself, but streams bodies to the object store's files, so
        // an upload's size costs disk, not memory.
        match app.s3.call(req.map(s3s::Body::from)).await {
            Ok(r) => r.map(http_body_util::Either::Right),
            Err(e) => {
                tracing::error!(error = ?e, "s3 request");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
                    .map(http_body_util::Either::Left)
            }
        }
    } else {
        match route(app, req, &request_id).await {
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
    Iam,
}

async fn route(
    app: &App,
    req: Request<Incoming>,
    request_id: &str,
) -> Result<Response<Full<Bytes>>, LambdaError> {
    let path = req.uri().path();
    if path == "/_lambent/health" {
        return Ok(plain(StatusCode::OK, "ok\n"));
    }
    if path == "/_lambent/metrics" {
        // Public, as Prometheus scrapes: counts and names, nothing secret.
        return Ok(metrics(app));
    }
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let service = if target.starts_with("Logs_20140328.") {
        Service::Logs
    } else if crate::iam::is_iam(req.headers(), req.uri().query()) {
        Service::Iam
    } else {
        Service::Lambda
    };
    let (limit, operation) = match service {
        // Every invocation type's payload fits under the synchronous limit; `control`
        // applies the asynchronous ones with AWS's message for them.
        Service::Lambda if path.ends_with("/invocations") => {
            (control::MAX_SYNC_PAYLOAD, "InvokeFunction")
        }
        Service::Lambda if path.trim_end_matches('/').ends_with("/invoke-async") => {
            (MAX_SMALL_BODY, "InvokeAsync")
        }
        Service::Lambda
            if req.method() == http::Method::POST && path == "/2015-03-31/functions" =>
        {
            (MAX_CONTROL_BODY, "CreateFunction")
        }
        Service::Lambda if path.ends_with("/code") => (MAX_CONTROL_BODY, "UpdateFunctionCode"),
        Service::Logs => (MAX_LOGS_BODY, "logs"),
        Service::Iam => (crate::iam::MAX_BODY, "IAM"),
        _ => (MAX_SMALL_BODY, "this"),
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
            close(logs_api::error_response(&(
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
    match service {
        Service::Lambda => {
            scope.map_err(|e| e.lambda())?;
            if parts.uri.path() == "/_lambent/events/failed" && parts.method == http::Method::GET {
                return failed_events(app, &parts);
            }
            if parts.uri.path() == "/_lambent/usage" && parts.method == http::Method::GET {
                return usage(app, &parts);
            }
            let req = api_request(parts, body, request_id);
            let resp = control::handle(&app.control, req).await?;
            Ok(api_response(resp))
        }
        Service::Logs => {
            let action = target.trim_start_matches("Logs_20140328.").to_string();
            Ok(match scope {
                Err(e) => logs_api::error_response(&e.json_error()),
                Ok(_) => logs_api::handle(&app.logs, app.control.region(), &action, &body),
            })
        }
        Service::Iam => {
            let r = match scope {
                Err(e) => crate::iam::unauthenticated(&e.json_error(), request_id),
                Ok(caller) => {
                    let params = crate::iam::params(parts.uri.query(), &body);
                    app.iam.handle(caller, params, request_id.to_string()).await
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

/// `GET /_lambent/metrics`: Prometheus text.
fn metrics(app: &App) -> Response<Full<Bytes>> {
    let (queue_depth, oldest) = app.control.events().queue().depth().unwrap_or((0, None));
    let gauges = crate::telemetry::Gauges {
        concurrent: app.control.scheduler().concurrency(),
        stems: app.control.scheduler().stems_ready(),
        queue_depth,
        oldest_event_age: oldest.map(|ms| {
            std::time::Duration::from_millis((crate::logs::now_millis() - ms).max(0) as u64)
        }),
        metric_filters: app
            .logs
            .metric_filter_values()
            .into_iter()
            .map(|m| crate::telemetry::FilterValue {
                log_group: m.log_group,
                filter_name: m.filter_name,
                metric_namespace: m.metric_namespace,
                metric_name: m.metric_name,
                value: m.value,
            })
            .collect(),
    };
    let body = app.control.scheduler().telemetry().render(&gauges);
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "metrics\n"))
}

/// The query parameter `name` of a request, decoded.
fn query_param(parts: &http::request::Parts, name: &str) -> Option<String> {
    parts.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode_query(v))
    })
}

/// A `From`/`To` bound: Unix milliseconds, or an RFC 3339 time or `YYYY-MM-DD` date (UTC).
fn time_param(text: &str) -> Result<i64, LambdaError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            LambdaError::InvalidParameterValue(format!(
                "{text:?} is not a time: use Unix milliseconds, YYYY-MM-DD or RFC 3339"
            ))
        })
}

/// lambent's own `GET /_lambent/usage[?FunctionName=&From=&To=]` (signed like a Lambda call):
/// requests, GB-seconds and cost.
fn usage(app: &App, parts: &http::request::Parts) -> Result<Response<Full<Bytes>>, LambdaError> {
    let from = query_param(parts, "From")
        .map(|t| time_param(&t))
        .transpose()?
        .unwrap_or(0);
    let to = query_param(parts, "To")
        .map(|t| time_param(&t))
        .transpose()?
        .unwrap_or(i64::MAX);
    let function = query_param(parts, "FunctionName");
    let report = app
        .control
        .scheduler()
        .telemetry()
        .usage_report(function.as_deref(), from, to)
        .map_err(|e| LambdaError::Service(format!("reading usage: {e}")))?;
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(report.to_string())))
        .map_err(|e| LambdaError::Service(e.to_string()))
}

/// lambent's own `GET /_lambent/events/failed[?FunctionName=]` (signed like any Lambda
/// call): the events that will not be delivered.
fn failed_events(
    app: &App,
    parts: &http::request::Parts,
) -> Result<Response<Full<Bytes>>, LambdaError> {
    let function = query_param(parts, "FunctionName");
    let body = app
        .control
        .events()
        .failed_json(function.as_deref())
        .map_err(|e| LambdaError::Service(format!("reading failed events: {e}")))?;
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| LambdaError::Service(e.to_string()))
}

fn api_request(parts: http::request::Parts, body: Bytes, request_id: &str) -> ApiRequest {
    let segments = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
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

/// Lambda's rest-json error envelope.
pub fn lambda_error(e: &LambdaError) -> Response<Full<Bytes>> {
    Response::builder()
        .status(e.status())
        .header("x-amzn-ErrorType", e.code())
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(e.body())))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "error\n"))
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
