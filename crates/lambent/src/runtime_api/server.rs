//! The HTTP side of the Runtime API: one route table, one handler per endpoint.

use super::{Channel, NextGuard, Reply, Work, MAX_RESPONSE_BYTES};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// Serves the Runtime API for one environment until the task is aborted.
pub async fn serve(listener: TcpListener, channel: Arc<Channel>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let channel = channel.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let channel = channel.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&channel, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(channel: &Channel, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/2018-06-01/") else {
        return not_found();
    };
    let segments: Vec<&str> = rest.split('/').collect();
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["runtime", "invocation", "next"]) => next(channel).await,
        (&Method::POST, ["runtime", "invocation", id, "response"]) => {
            let id = id.to_string();
            response(channel, &id, req).await
        }
        (&Method::POST, ["runtime", "invocation", id, "error"]) => {
            let id = id.to_string();
            error(channel, Some(&id), req).await
        }
        (&Method::POST, ["runtime", "init", "error"]) if channel.initialized() => {
            // Init ended with the first `next`: what is in flight now is an invocation,
            // which its own response or error answers (AWS's runtime refuses the same way).
            error_body(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                "State transition from Running to InitError failed for runtime. \
                 Error: State transition is not allowed",
            )
        }
        (&Method::POST, ["runtime", "init", "error"]) => error(channel, None, req).await,
        (&Method::GET, ["ping"]) => reply(StatusCode::OK, Bytes::from_static(b"pong")),
        _ => not_found(),
    }
}

async fn next(channel: &Channel) -> Response<Full<Bytes>> {
    if channel.next_pending.swap(true, Ordering::AcqRel) {
        return error_body(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "A request for the next invocation is already pending.",
        );
    }
    let _guard = NextGuard(&channel.next_pending);
    channel.ready.send_replace(true);
    let mut rx = channel.work_rx.lock().await;
    loop {
        let Some(work) = rx.recv().await else {
            return error_body(
                StatusCode::GONE,
                "EnvironmentStopped",
                "The environment is stopping.",
            );
        };
        if channel.delivered(&work.request_id) {
            return deliver(work);
        }
    }
}

fn deliver(work: Work) -> Response<Full<Bytes>> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let deadline = now_ms + work.timeout.as_millis();
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &work.request_id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &work.invoked_arn)
        .header("Lambda-Runtime-Trace-Id", &work.trace_id);
    if let Some(cc) = &work.client_context {
        b = b.header("Lambda-Runtime-Client-Context", cc);
    }
    b.body(Full::new(work.payload))
        .unwrap_or_else(|_| internal())
}

async fn response(channel: &Channel, id: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(body) => {
            let reply = Reply::Response {
                body: body.to_bytes(),
                content_type,
            };
            accepted_or_invalid(channel.finish(id, reply))
        }
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            if channel.finish(id, Reply::TooLarge) {
                too_large()
            } else {
                invalid_request_id()
            }
        }
        Err(_) => error_body(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Could not read the request body.",
        ),
    }
}

async fn error(
    channel: &Channel,
    id: Option<&str>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let error_type = req
        .headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Runtime.Unknown")
        .to_string();
    let body = match Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            // An oversized error document still ends the invocation it names.
            if let Some(id) = id {
                channel.finish(id, Reply::TooLarge);
            }
            return too_large();
        }
    };
    match id {
        Some(id) => accepted_or_invalid(channel.finish(id, Reply::Error { error_type, body })),
        None => {
            channel.init_error(Reply::InitError { error_type, body });
            reply(
                StatusCode::ACCEPTED,
                Bytes::from_static(b"{\"status\":\"OK\"}"),
            )
        }
    }
}

fn accepted_or_invalid(accepted: bool) -> Response<Full<Bytes>> {
    if accepted {
        reply(
            StatusCode::ACCEPTED,
            Bytes::from_static(b"{\"status\":\"OK\"}"),
        )
    } else {
        invalid_request_id()
    }
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    error_body(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn too_large() -> Response<Full<Bytes>> {
    error_body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
    )
}

fn not_found() -> Response<Full<Bytes>> {
    error_body(StatusCode::NOT_FOUND, "NotFound", "Not found")
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
    reply(status, Bytes::from(body.to_string()))
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(body))
        .unwrap_or_else(|_| internal())
}

fn internal() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}
