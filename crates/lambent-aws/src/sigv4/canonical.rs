//! Canonical request construction: URI encoding, path normalisation, canonical query
//! string and canonical headers. Everything works on bytes; the canonical request is
//! built into one `Vec<u8>` (non-UTF-8 header bytes are hashed exactly as received).

use std::borrow::Cow;

use super::{AuthKind, RequestParts};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// A canonical (decoded and re-encoded) query `(name, value)`.
type QueryPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`.
#[inline]
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[inline]
fn push_pct(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[
        b'%',
        HEX_UPPER[usize::from(b >> 4)],
        HEX_UPPER[usize::from(b & 15)],
    ]);
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encode every byte except the unreserved set (and `/` when `keep_slash`).
/// `%` itself is encoded, which is what makes the non-S3 path "double-encoded".
pub(crate) fn encode_into(out: &mut Vec<u8>, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b);
        } else {
            push_pct(out, b);
        }
    }
}

/// [`encode_into`] for `&str` -> `String` (used by the signer for query values).
pub(crate) fn encode_str(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 16);
    encode_into(&mut out, s.as_bytes(), false);
    // Only ASCII is ever pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// Decode `%XX` escapes (RFC 3986: `+` stays a literal plus) and re-encode with the
/// SigV4 rule, in one pass. Borrows when the component is already canonical.
fn canonical_component(raw: &str) -> Cow<'_, [u8]> {
    let bytes = raw.as_bytes();
    if bytes.iter().all(|&b| is_unreserved(b)) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex_val),
                bytes.get(i + 2).copied().and_then(hex_val),
            ) {
                let d = (h << 4) | l;
                if is_unreserved(d) {
                    out.push(d);
                } else {
                    push_pct(&mut out, d);
                }
                i += 3;
                continue;
            }
        }
        if is_unreserved(b) {
            out.push(b);
        } else {
            push_pct(&mut out, b);
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Write the canonical URI.
///
/// * `normalize_path` (every service but S3): remove `.`/`..` segments and empty
///   segments, then encode the (still percent-encoded) wire path once more, so `%3A`
///   becomes `%253A` and a raw space becomes `%20`.
/// * S3: no normalisation; the wire path is used as sent, except that bytes a client
///   must have escaped (space, non-ASCII, ...) are escaped and existing `%xx` escapes
///   are kept (hex digits upper-cased).
pub(crate) fn write_canonical_uri(out: &mut Vec<u8>, raw_path: &str, normalize_path: bool) {
    if raw_path.is_empty() {
        out.push(b'/');
        return;
    }
    if normalize_path {
        if needs_normalization(raw_path) {
            let normalized = normalize(raw_path);
            encode_into(out, normalized.as_bytes(), true);
        } else {
            if !raw_path.starts_with('/') {
                out.push(b'/');
            }
            encode_into(out, raw_path.as_bytes(), true);
        }
        return;
    }
    if !raw_path.starts_with('/') {
        out.push(b'/');
    }
    let bytes = raw_path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (bytes.get(i + 1), bytes.get(i + 2)) {
                if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() {
                    out.extend_from_slice(&[b'%', h.to_ascii_uppercase(), l.to_ascii_uppercase()]);
                    i += 3;
                    continue;
                }
            }
        }
        if is_unreserved(b) || b == b'/' {
            out.push(b);
        } else {
            push_pct(out, b);
        }
        i += 1;
    }
}

/// Whether [`normalize`] would change the path (so the common case allocates nothing).
fn needs_normalization(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return true;
    };
    let mut segments = rest.split('/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg == "." || seg == ".." || (seg.is_empty() && !last) {
            return true;
        }
    }
    false
}

/// RFC 3986 dot-segment removal plus collapsing of empty segments (`//`). A path that
/// ends in `/`, `.` or `..` keeps a trailing slash (unless the result is `/`).
pub(crate) fn normalize(path: &str) -> String {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let mut stack: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for seg in rest.split('/') {
        match seg {
            "" | "." => trailing_slash = true,
            ".." => {
                stack.pop();
                trailing_slash = true;
            }
            s => {
                stack.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for seg in &stack {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// Write the canonical query string: every `name[=value]` pair decoded and
/// re-encoded, sorted by name then value, `name=` for a missing value. For presigned
/// requests (`AuthKind::Query`) `X-Amz-Signature` is left out.
pub(crate) fn write_canonical_query(out: &mut Vec<u8>, raw_query: &str, kind: AuthKind) {
    if raw_query.is_empty() {
        return;
    }
    let mut pairs: Vec<QueryPair<'_>> = Vec::with_capacity(8);
    for part in raw_query.split('&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = canonical_component(name);
        if kind == AuthKind::Query && &*name == b"X-Amz-Signature" {
            continue;
        }
        pairs.push((name, canonical_component(value)));
    }
    pairs.sort_unstable();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(name);
        out.push(b'=');
        out.extend_from_slice(value);
    }
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Append a header value trimmed, with inner runs of whitespace (spaces, tabs and the
/// line breaks of obsolete folded headers) collapsed to one space.
pub(crate) fn push_trimmed_value(out: &mut Vec<u8>, value: &[u8]) {
    let start = value
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |p| p + 1);
    let mut in_space = false;
    for &b in &value[start..end] {
        if is_space(b) {
            if !in_space {
                out.push(b' ');
                in_space = true;
            }
        } else {
            out.push(b);
            in_space = false;
        }
    }
}

/// Write the canonical headers block (each `name:value\n`; duplicates joined with `,`
/// in wire order) and then the signed-headers line (`a;b;c\n`). Names are used in the
/// order given (clients send them sorted) and compared case-insensitively.
pub(crate) fn write_canonical_headers<S: AsRef<str>>(
    out: &mut Vec<u8>,
    headers: &[(&str, &[u8])],
    signed_headers: &[S],
) {
    for name in signed_headers {
        let name = name.as_ref();
        for b in name.bytes() {
            out.push(b.to_ascii_lowercase());
        }
        out.push(b':');
        let mut first = true;
        for (n, v) in headers {
            if n.eq_ignore_ascii_case(name) {
                if !first {
                    out.push(b',');
                }
                first = false;
                push_trimmed_value(out, v);
            }
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        for b in name.as_ref().bytes() {
            out.push(b.to_ascii_lowercase());
        }
    }
    out.push(b'\n');
}

/// The whole canonical request, as bytes.
pub(crate) fn canonical_request_bytes<S: AsRef<str>>(
    req: &RequestParts<'_>,
    signed_headers: &[S],
    payload: &str,
    normalize_path: bool,
    kind: AuthKind,
) -> Vec<u8> {
    let headers_len: usize = req.headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(
        req.method.len()
            + req.raw_path.len() * 2
            + req.raw_query.len() * 2
            + headers_len
            + payload.len()
            + 64,
    );
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    write_canonical_uri(&mut out, req.raw_path, normalize_path);
    out.push(b'\n');
    write_canonical_query(&mut out, req.raw_query, kind);
    out.push(b'\n');
    write_canonical_headers(&mut out, req.headers, signed_headers);
    out.extend_from_slice(payload.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str, normalize: bool) -> String {
        let mut out = Vec::new();
        write_canonical_uri(&mut out, path, normalize);
        String::from_utf8(out).unwrap()
    }

    fn query(q: &str, kind: AuthKind) -> String {
        let mut out = Vec::new();
        write_canonical_query(&mut out, q, kind);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn path_normalisation() {
        for (input, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a/b/..", "/a/"),
            ("/a/./b/.", "/a/b/"),
            ("/../a", "/a"),
            ("/a/b/c", "/a/b/c"),
        ] {
            assert_eq!(uri(input, true), want, "normalize {input:?}");
        }
    }

    #[test]
    fn double_encoding_for_non_s3() {
        assert_eq!(
            uri("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn/invocations", true),
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Afn/invocations"
        );
        assert_eq!(uri("/example space/", true), "/example%20space/");
        assert_eq!(uri("/a:b", true), "/a%3Ab");
    }

    #[test]
    fn s3_path_single_encoding() {
        assert_eq!(uri("/test%24file.text", false), "/test%24file.text");
        assert_eq!(uri("/test%2afile", false), "/test%2Afile");
        assert_eq!(uri("/example space/", false), "/example%20space/");
        assert_eq!(uri("//example//", false), "//example//");
        assert_eq!(uri("/a/../b", false), "/a/../b");
        assert_eq!(uri("/100%", false), "/100%25");
        assert_eq!(uri("/\u{1234}", false), "/%E1%88%B4");
    }

    #[test]
    fn canonical_query_rules() {
        assert_eq!(
            query(
                "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                AuthKind::Header
            ),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(query("b=2&a&c=", AuthKind::Header), "a=&b=2&c=");
        assert_eq!(
            query("a=x%20y+z&a=%7e", AuthKind::Header),
            "a=x%20y%2Bz&a=~"
        );
        assert_eq!(query("a=b=c&&", AuthKind::Header), "a=b%3Dc");
        assert_eq!(query("p=1&X-Amz-Signature=abc", AuthKind::Query), "p=1");
        assert_eq!(
            query("p=1&X-Amz-Signature=abc", AuthKind::Header),
            "X-Amz-Signature=abc&p=1"
        );
        assert_eq!(query("k=100%", AuthKind::Header), "k=100%25");
    }

    #[test]
    fn header_value_trimming() {
        let mut out = Vec::new();
        push_trimmed_value(&mut out, b"  \"a   b \t c\"  ");
        assert_eq!(out, b"\"a b c\"");
        out.clear();
        push_trimmed_value(&mut out, b"value1\n  value2\n     value3");
        assert_eq!(out, b"value1 value2 value3");
        out.clear();
        push_trimmed_value(&mut out, b"   ");
        assert_eq!(out, b"");
    }
}
