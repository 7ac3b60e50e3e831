//! The query protocol's two halves, as small as STS needs them: form parameters in (the
//! query string and a `application/x-www-form-urlencoded` body, `+` as space, bounded), and
//! XML out (the `<{Op}Response>` envelope and `<ErrorResponse>`).
//!
//! Kept separate from the operations so they can join the IAM API's helpers later.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;

/// STS's XML namespace.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// More parameters than any STS operation takes (AssumeRole with 50 tags, 50 transitive
/// keys and 10 policy ARNs stays under 200).
const MAX_PARAMS: usize = 1000;

/// The request's parameters in order of appearance; the first of a repeated name wins.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parameters of the query string and then of the body; `None` past [`MAX_PARAMS`].
    pub fn parse(query: &str, body: &[u8]) -> Option<Params> {
        let body = std::str::from_utf8(body).ok()?;
        let mut out = Vec::new();
        for pair in query.split('&').chain(body.split('&')) {
            if pair.is_empty() {
                continue;
            }
            if out.len() == MAX_PARAMS {
                return None;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k), decode(v)));
        }
        Some(Params(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A flattened list: `{prefix}.member.1{suffix}`, `.member.2...` while present.
    pub fn list(&self, prefix: &str, suffix: &str) -> Vec<&str> {
        (1..=MAX_PARAMS)
            .map_while(|n| self.get(&format!("{prefix}.member.{n}{suffix}")))
            .collect()
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The inside of a `<{Op}Result>`, written element by element.
#[derive(Default)]
pub struct Xml(String);

impl Xml {
    /// `<name>text</name>`, escaped.
    pub fn elem(&mut self, name: &str, text: &str) -> &mut Xml {
        self.0
            .push_str(&format!("<{name}>{}</{name}>", escape(text)));
        self
    }

    pub fn open(&mut self, name: &str) -> &mut Xml {
        self.0.push_str(&format!("<{name}>"));
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Xml {
        self.0.push_str(&format!("</{name}>"));
        self
    }
}

fn xml_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml"),
    );
    r
}

/// `<{op}Response><{op}Result>…</{op}Result><ResponseMetadata>…`, 200.
pub fn success(op: &str, result: &Xml, request_id: &str) -> Response<Full<Bytes>> {
    xml_response(
        StatusCode::OK,
        format!(
            "<{op}Response xmlns=\"{NAMESPACE}\"><{op}Result>{}</{op}Result>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
            result.0,
            escape(request_id)
        ),
    )
}

/// The query protocol's `<ErrorResponse>` (a client's fault: `Sender`).
pub fn error(status: u16, code: &str, message: &str, request_id: &str) -> Response<Full<Bytes>> {
    xml_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type><Code>{}</Code>\
             <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            escape(code),
            escape(message),
            escape(request_id)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_plus_and_percent_and_lists_stop_at_a_gap() {
        let p = Params::parse(
            "Action=AssumeRole",
            b"RoleSessionName=a+b%2Bc&Tags.member.1.Key=k1&Tags.member.2.Key=k2&Tags.member.4.Key=k4&Action=Other",
        )
        .unwrap();
        assert_eq!(p.get("Action"), Some("AssumeRole"));
        assert_eq!(p.get("RoleSessionName"), Some("a b+c"));
        assert_eq!(p.list("Tags", ".Key"), vec!["k1", "k2"]);
        assert!(p.get("Missing").is_none());
        assert!(Params::parse("", &b"a=1&".repeat(MAX_PARAMS + 1)).is_none());
        assert!(Params::parse("", b"\xff").is_none());
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
    }
}
