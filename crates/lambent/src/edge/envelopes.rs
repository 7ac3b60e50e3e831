//! The error envelopes of the protocols the edge answers in: Lambda's rest-json, and
//! awsJson 1.1 (the Logs API), for the results of a service and for the edge's own refusals
//! (authentication, a body too large).

use super::plain;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use lambent_aws::lambda::LambdaError;
use lambent_aws::logs::LogsError;
use serde_json::{json, Value};

/// Lambda's rest-json error envelope.
pub fn lambda_error(e: &LambdaError) -> Response<Full<Bytes>> {
    Response::builder()
        .status(e.status())
        .header("x-amzn-ErrorType", e.code())
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(e.body())))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "error\n"))
}

static JSON_1_1: HeaderValue = HeaderValue::from_static("application/x-amz-json-1.1");

/// A Logs operation's result in awsJson: its output, or its error with AWS's code.
pub fn logs_result(result: Result<Value, LogsError>) -> Response<Full<Bytes>> {
    match result {
        Ok(v) => {
            let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
            r.headers_mut().insert("Content-Type", JSON_1_1.clone());
            r
        }
        Err(e) => {
            let mut r = Response::new(Full::new(Bytes::from(e.body())));
            *r.status_mut() = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let headers = r.headers_mut();
            headers.insert("Content-Type", JSON_1_1.clone());
            if let Ok(v) = HeaderValue::from_str(e.code()) {
                headers.insert("x-amzn-ErrorType", v);
            }
            r
        }
    }
}

/// awsJson's error envelope for a `(code, message)`, e.g. an authentication failure.
pub fn aws_json_error((code, message): &(&str, String)) -> Response<Full<Bytes>> {
    let body = json!({"__type": code, "message": message});
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("x-amzn-ErrorType", *code)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}
