//! The control plane's view of a request: already authenticated, path split and decoded,
//! body read. HTTP types stop at the edge; this is what is left of them.

use bytes::Bytes;
use lambent_aws::lambda::LambdaError;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub struct ApiRequest {
    pub method: http::Method,
    /// Percent-decoded path segments (`/2015-03-31/functions/f` gives three).
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub request_id: String,
}

impl ApiRequest {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parses the JSON body; an empty body is an empty object.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, LambdaError> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            LambdaError::InvalidParameterValue(format!("Could not parse request body: {e}"))
        })
    }
}

pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl ApiResponse {
    pub fn json(status: u16, value: &impl Serialize) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    pub fn empty(status: u16) -> ApiResponse {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}
