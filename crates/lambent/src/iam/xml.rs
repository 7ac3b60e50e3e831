//! The query protocol's responses: `<{Op}Response xmlns=...><{Op}Result>...</{Op}Result>
//! <ResponseMetadata><RequestId>...` and the `<ErrorResponse>` envelope. Text is escaped;
//! policy documents are percent-encoded JSON (`%20` for a space, never `+`), which botocore
//! decodes back to a dict; paging markers are percent-encoded too, so any marker the store
//! makes survives the round trip.

use super::error::IamApiError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// What `urllib.parse.quote(s, safe="")` leaves alone: letters, digits and `-_.~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document as AWS returns it.
pub fn encode_policy(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, UNRESERVED).to_string()
}

/// An opaque marker for the wire.
pub fn encode_marker(marker: &str) -> String {
    encode_policy(marker)
}

/// The marker a client passed back.
pub fn decode_marker(marker: &str) -> String {
    percent_encoding::percent_decode_str(marker)
        .decode_utf8_lossy()
        .into_owned()
}

/// Escapes text for an element's content. Characters XML 1.0 cannot carry become U+FFFD.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// A result body under construction.
#[derive(Debug, Default)]
pub struct Xml {
    buf: String,
}

impl Xml {
    pub fn new() -> Xml {
        Xml::default()
    }

    pub fn open(&mut self, tag: &str) -> &mut Xml {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Xml {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag>text</tag>`, escaped.
    pub fn text(&mut self, tag: &str, text: &str) -> &mut Xml {
        self.open(tag);
        escape(text, &mut self.buf);
        self.close(tag)
    }

    /// `<tag>text</tag>` when there is one.
    pub fn maybe(&mut self, tag: &str, text: Option<&str>) -> &mut Xml {
        if let Some(t) = text {
            self.text(tag, t);
        }
        self
    }

    pub fn bool(&mut self, tag: &str, value: bool) -> &mut Xml {
        self.text(tag, if value { "true" } else { "false" })
    }

    pub fn number(&mut self, tag: &str, value: impl std::fmt::Display) -> &mut Xml {
        self.text(tag, &value.to_string())
    }

    /// A timestamp in milliseconds since the epoch, as ISO-8601 UTC.
    pub fn time(&mut self, tag: &str, ms: i64) -> &mut Xml {
        self.text(tag, &iso8601(ms))
    }

    /// A policy document, percent-encoded.
    pub fn policy(&mut self, tag: &str, document: &str) -> &mut Xml {
        self.text(tag, &encode_policy(document))
    }

    /// `IsTruncated`, and `Marker` when more follow.
    pub fn paging(&mut self, marker: Option<&str>) -> &mut Xml {
        self.bool("IsTruncated", marker.is_some());
        if let Some(m) = marker {
            self.text("Marker", &encode_marker(m));
        }
        self
    }

    /// `<tag><member>..</member>...</tag>`, each member written by `f`.
    pub fn members<T>(
        &mut self,
        tag: &str,
        items: &[T],
        mut f: impl FnMut(&mut Xml, &T),
    ) -> &mut Xml {
        self.open(tag);
        for item in items {
            self.open("member");
            f(self, item);
            self.close("member");
        }
        self.close(tag)
    }

    /// The buffer, for content written by hand (already escaped).
    pub fn buf_mut(&mut self) -> &mut String {
        &mut self.buf
    }

    #[cfg(test)]
    pub fn into_string(self) -> String {
        self.buf
    }
}

/// `2026-01-01T00:00:00Z`.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The whole response of `op`; `result` is `None` for operations without output.
pub fn response(op: &str, request_id: &str, result: Option<Xml>) -> String {
    let mut out = format!(r#"<{op}Response xmlns="{NAMESPACE}">"#);
    if let Some(r) = result {
        out.push_str(&format!("<{op}Result>"));
        out.push_str(&r.buf);
        out.push_str(&format!("</{op}Result>"));
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape(request_id, &mut out);
    out.push_str(&format!("</RequestId></ResponseMetadata></{op}Response>"));
    out
}

/// The `<ErrorResponse>` envelope.
pub fn error(e: &IamApiError, request_id: &str) -> String {
    let mut out = format!(r#"<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>"#);
    out.push_str(e.kind());
    out.push_str("</Type><Code>");
    out.push_str(e.code);
    out.push_str("</Code><Message>");
    escape(&e.message, &mut out);
    out.push_str("</Message></Error><RequestId>");
    escape(request_id, &mut out);
    out.push_str("</RequestId></ErrorResponse>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut x = Xml::new();
        x.text("Description", "a<b & \"c\" 'd'>\r\u{1}");
        assert_eq!(
            x.into_string(),
            "<Description>a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#xD;\u{FFFD}</Description>"
        );
    }

    #[test]
    fn policies_are_percent_encoded_with_percent_20() {
        let doc = r#"{"Version": "2012-10-17", "Statement": [{"Action": "s3:Get*"}]}"#;
        let enc = encode_policy(doc);
        assert!(!enc.contains('+') && !enc.contains(' '));
        assert!(
            enc.starts_with("%7B%22Version%22%3A%20%222012-10-17%22"),
            "{enc}"
        );
        assert_eq!(decode_marker(&enc), doc);
        let mut x = Xml::new();
        x.policy("PolicyDocument", "{\"a\":\"é<\"}");
        assert_eq!(
            x.into_string(),
            "<PolicyDocument>%7B%22a%22%3A%22%C3%A9%3C%22%7D</PolicyDocument>"
        );
    }

    #[test]
    fn envelopes() {
        let mut r = Xml::new();
        r.paging(Some("bob\n0"));
        let body = response("ListUsers", "rid", Some(r));
        assert_eq!(
            body,
            format!(
                r#"<ListUsersResponse xmlns="{NAMESPACE}"><ListUsersResult><IsTruncated>true</IsTruncated><Marker>bob%0A0</Marker></ListUsersResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ListUsersResponse>"#
            )
        );
        assert_eq!(
            response("DeleteUser", "r", None),
            format!(
                r#"<DeleteUserResponse xmlns="{NAMESPACE}"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"#
            )
        );
        let e = IamApiError::no_such_entity("The user with name <x> cannot be found.");
        assert!(error(&e, "r").contains(
            "<Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &lt;x&gt; cannot be found.</Message>"
        ));
        let e = IamApiError::new("ServiceFailure", 500, "x");
        assert!(error(&e, "r").contains("<Type>Receiver</Type>"));
    }

    #[test]
    fn timestamps_are_iso8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_767_225_600_123), "2026-01-01T00:00:00Z");
    }
}
