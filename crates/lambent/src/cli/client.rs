//! A small SigV4-signing client of lambent's public API, for the CLI.

use super::{ClientArgs, ENDPOINT_FILE};
use crate::auth::RootCredentials;
use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use indicatif::ProgressBar;
use lambent_aws::sigv4;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

#[derive(Clone)]
pub struct Client {
    endpoint: String,
    authority: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Upload,
    >,
}

/// One request: `path` is already percent-encoded; `progress` shows the upload.
pub struct Call<'a> {
    pub service: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, String)],
    pub body: Bytes,
    pub progress: Option<ProgressBar>,
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// Fails with the AWS error code and message unless the status is 2xx.
    pub fn ok(self) -> anyhow::Result<Reply> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        let code = self
            .header("x-amzn-ErrorType")
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}", self.status));
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let msg = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(|m| m.as_str())
            .unwrap_or("");
        bail!("{code}: {msg}")
    }
}

impl Client {
    pub fn from_args(args: &ClientArgs) -> anyhow::Result<Client> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = args
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| {
                std::fs::read_to_string(args.data_dir.join(ENDPOINT_FILE))
                    .ok()
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| format!("http://{}", super::DEFAULT_LISTEN));
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let authority = endpoint
            .strip_prefix("http://")
            .context("lambent's endpoint must be an http:// URL")?
            .to_string();
        let (access_key_id, secret_access_key, session_token) = match (
            env("AWS_ACCESS_KEY_ID"),
            env("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => (id, secret, env("AWS_SESSION_TOKEN")),
            _ => {
                let path = args.data_dir.join(crate::auth::credentials_file_name());
                let RootCredentials {
                        access_key_id,
                        secret_access_key,
                    } = crate::auth::read_credentials(&path)?.with_context(|| {
                        format!(
                            "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or start lambent with --data-dir {}",
                            args.data_dir.display()
                        )
                    })?;
                (access_key_id, secret_access_key, None)
            }
        };
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        // Small requests must not wait for Nagle's algorithm (see PERF-NOTES).
        connector.set_nodelay(true);
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(Client {
            endpoint,
            authority,
            access_key_id,
            secret_access_key,
            session_token,
            region,
            http,
        })
    }

    /// The same endpoint and connections, signing with another (long-term) key.
    pub fn with_key(&self, access_key_id: &str, secret_access_key: &str) -> Client {
        Client {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: None,
            ..self.clone()
        }
    }

    /// `export` lines for the AWS tools.
    pub fn exports(&self) -> String {
        let mut s = format!(
            "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n",
            self.access_key_id, self.secret_access_key
        );
        if let Some(t) = &self.session_token {
            s.push_str(&format!("export AWS_SESSION_TOKEN={t}\n"));
        }
        s.push_str(&format!(
            "export AWS_REGION={r}\nexport AWS_DEFAULT_REGION={r}\nexport AWS_ENDPOINT_URL={e}\n",
            r = self.region,
            e = self.endpoint
        ));
        s
    }

    /// Sends a signed request.
    pub async fn send(&self, call: Call<'_>) -> anyhow::Result<Reply> {
        let payload = sigv4::sha256_hex(&call.body);
        self.send_hashed(call, &payload).await
    }

    /// Sends a signed request whose body's hex SHA-256 the caller already has: a body sent
    /// many times (`lambent bench`'s uploads) is hashed once, not once per request.
    pub async fn send_hashed(&self, call: Call<'_>, payload: &str) -> anyhow::Result<Reply> {
        let Call {
            service,
            method,
            path,
            query,
            headers: extra_headers,
            body,
            progress,
        } = call;
        let amz_date = sigv4::format_amz_date(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs() as i64,
        );
        let mut headers: Vec<(String, String)> = vec![("host".into(), self.authority.clone())];
        for (k, v) in extra_headers {
            headers.push((k.to_ascii_lowercase(), v.clone()));
        }
        let parts_headers: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        let parts = sigv4::RequestParts {
            method,
            raw_path: path,
            raw_query: query,
            headers: &parts_headers,
        };
        let mut params = sigv4::SigningParams::new(
            &self.access_key_id,
            &self.secret_access_key,
            &self.region,
            service,
            &amz_date,
            payload,
        );
        params.session_token = self.session_token.as_deref();
        let signed = sigv4::sign(&parts, &params);
        let uri = if query.is_empty() {
            format!("{}{}", self.endpoint, path)
        } else {
            format!("{}{}?{}", self.endpoint, path, query)
        };
        let mut req = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers.iter().chain(signed.iter()) {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(Upload {
            data: body,
            sent: 0,
            progress,
        })?;
        let resp = self
            .http
            .request(req)
            .await
            .with_context(|| format!("cannot reach lambent at {}", self.endpoint))?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// `GET /_lambent/health`, unsigned: the cheapest request, the benchmark's floor.
    pub async fn health(&self) -> anyhow::Result<u16> {
        let req =
            http::Request::get(format!("{}/_lambent/health", self.endpoint)).body(Upload {
                data: Bytes::new(),
                sent: 0,
                progress: None,
            })?;
        let resp = self.http.request(req).await?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await?;
        Ok(status)
    }

    /// An unsigned `GET` of one of lambent's own public paths (`/_lambent/metrics`): the
    /// status and the body as text.
    pub async fn get_public(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let req = http::Request::get(format!("{}{path}", self.endpoint)).body(Upload {
            data: Bytes::new(),
            sent: 0,
            progress: None,
        })?;
        let resp = self.http.request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// A Lambda REST call with a JSON body.
    pub async fn lambda(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<Reply> {
        let (bytes, headers) = match body {
            Some(v) => (
                Bytes::from(serde_json::to_vec(v)?),
                vec![("content-type", "application/json".to_string())],
            ),
            None => (Bytes::new(), vec![]),
        };
        self.send(Call {
            service: "lambda",
            method,
            path,
            query,
            headers: &headers,
            body: bytes,
            progress: None,
        })
        .await
    }

    /// One IAM query-protocol call: its answer, whatever its status.
    pub async fn iam(&self, action: &str, params: &[(&str, &str)]) -> anyhow::Result<Reply> {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let mut body = format!("Action={action}&Version=2010-05-08");
        for (k, v) in params {
            body.push_str(&format!(
                "&{k}={}",
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            ));
        }
        let headers = [(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        self.send(Call {
            service: "iam",
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: Bytes::from(body),
            progress: None,
        })
        .await
    }

    /// [`Client::iam`], failing with IAM's error code and message unless it answered 200;
    /// the answer's XML.
    pub async fn iam_ok(&self, action: &str, params: &[(&str, &str)]) -> anyhow::Result<String> {
        let reply = self.iam(action, params).await?;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        if reply.status != 200 {
            bail!(
                "IAM {action}: {}: {}",
                xml_element(&text, "Code").unwrap_or_else(|| format!("HTTP {}", reply.status)),
                xml_element(&text, "Message").unwrap_or_default()
            );
        }
        Ok(text)
    }

    /// IAM's CreateAccessKey for `user`: the new key's id and secret.
    pub async fn create_access_key(&self, user: &str) -> anyhow::Result<(String, String)> {
        let text = self
            .iam_ok("CreateAccessKey", &[("UserName", user)])
            .await
            .with_context(|| format!("creating an access key for {user}"))?;
        match (
            xml_element(&text, "AccessKeyId"),
            xml_element(&text, "SecretAccessKey"),
        ) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => bail!("creating an access key for {user}: the answer held no key"),
        }
    }

    /// The ARN of the execution role `name`, created first if it does not exist as the
    /// console's "basic Lambda permissions" role is: trusting Lambda, allowed to write logs.
    pub async fn function_role(&self, name: &str) -> anyhow::Result<String> {
        let reply = self.iam("GetRole", &[("RoleName", name)]).await?;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        let text = if reply.status == 200 {
            text
        } else if xml_element(&text, "Code").as_deref() == Some("NoSuchEntity") {
            let created = self
                .iam_ok(
                    "CreateRole",
                    &[
                        ("RoleName", name),
                        (
                            "AssumeRolePolicyDocument",
                            crate::iam::execution_roles::TRUSTS_LAMBDA,
                        ),
                        ("Description", "Basic Lambda permissions (lambent's CLI)"),
                    ],
                )
                .await?;
            self.iam_ok(
                "AttachRolePolicy",
                &[
                    ("RoleName", name),
                    (
                        "PolicyArn",
                        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    ),
                ],
            )
            .await?;
            created
        } else {
            bail!(
                "IAM GetRole {name}: {}: {}",
                xml_element(&text, "Code").unwrap_or_else(|| format!("HTTP {}", reply.status)),
                xml_element(&text, "Message").unwrap_or_default()
            );
        };
        xml_element(&text, "Arn").ok_or_else(|| anyhow::anyhow!("IAM named no ARN for {name}"))
    }

    /// A CloudWatch Logs (awsJson) call.
    pub async fn logs(
        &self,
        action: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let headers = [
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", format!("Logs_20140328.{action}")),
        ];
        let reply = self
            .send(Call {
                service: "logs",
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body: Bytes::from(body.to_string()),
                progress: None,
            })
            .await?;
        if reply.status != 200 {
            let v = reply.json().unwrap_or_default();
            bail!(
                "{}: {}",
                v["__type"].as_str().unwrap_or("error"),
                v["message"].as_str().unwrap_or("")
            );
        }
        reply.json()
    }
}

/// Percent-encodes one path segment (a function name or ARN).
/// The text of the first `<name>` element of an answer whose shape is fixed and whose values
/// are plain (no markup), as IAM's are.
pub fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_string())
}

pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A request body sent in 64 KiB frames, advancing a progress bar.
pub struct Upload {
    data: Bytes,
    sent: usize,
    progress: Option<ProgressBar>,
}

impl Body for Upload {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sent >= self.data.len() {
            if let Some(p) = &self.progress {
                p.finish_and_clear();
            }
            return Poll::Ready(None);
        }
        let end = (self.sent + 64 * 1024).min(self.data.len());
        let chunk = self.data.slice(self.sent..end);
        self.sent = end;
        if let Some(p) = &self.progress {
            p.set_position(end as u64);
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.sent) as u64)
    }
}
