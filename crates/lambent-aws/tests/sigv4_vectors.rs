//! Table-driven SigV4 tests against AWS's published vectors, kept in the repository under
//! `tests/data/` (sources and licences in `tests/data/README.md`), so the suite needs
//! nothing outside the checkout:
//!
//! * `sigv4/v4/<case>/` — the aws-c-auth (CRT) signing suite: header and query
//!   (presigned) variants of the canonical request, string to sign, signature and signed
//!   request.
//! * `sigv4/classic/**/<case>.{req,creq,sts,authz,sreq}` — AWS's original 2015 suite.
//! * `sigv4-s3/s3-doc-examples.json` — the worked examples of the S3 SigV4 docs,
//!   including the aws-chunked seed and chunk signatures.
//!
//! For every case we check the canonical request / string to sign / signature, check
//! that the client signer reproduces them, check that `verify` accepts the signed request
//! at the vector's timestamp, and that it rejects the request once any one signed byte
//! changes.
//!
//! Skipped parts (everything else runs):
//! * v4 `post-sts-header-after`, query variant: `omit_session_token` appends
//!   `X-Amz-Security-Token` to the URL *after* signing. A verifier cannot know that and
//!   includes the parameter in the canonical query, as AWS does for presigned URLs. The
//!   header variant runs (the token header is added after signing and is simply unsigned).
//! * classic `post-x-www-form-urlencoded-parameters`: only `.creq` is checked. Its
//!   `.sts`/`.authz`/`.sreq` are stale (computed with `charset=utf8` and without
//!   `content-length`, while `.req`/`.creq` have `charset=utf-8` and sign
//!   `content-length`), so no request in the case matches its signature.
//! * classic `post-x-www-form-urlencoded`: `.sts`/`.authz` sign
//!   `content-type;host;x-amz-date` while `.creq` also signs `content-length`; we check
//!   `.creq` with all headers and `.sts`/`.authz` with the `.authz` SignedHeaders, as for
//!   every other case.
//! * classic `get-vanilla-with-session-token`: `.req` lacks the `X-Amz-Security-Token`
//!   header that `.creq` signs, and `.sreq` carries get-vanilla's signature; the test adds
//!   the header from `.sreq` and takes the signature from `.authz`.

use std::fs;
use std::path::{Path, PathBuf};

use lambent_aws::sigv4::{
    canonical_request, chunk_signature, format_amz_date, parse, presign, sha256_hex, sign,
    signature, signing_key, string_to_sign, verify, AuthKind, PayloadHash, RequestParts,
    SigningParams, Sigv4Error, UNSIGNED_PAYLOAD,
};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

// ---------------------------------------------------------------------------------------
// Helpers

/// A request parsed from the suites' text format.
#[derive(Debug, Clone)]
struct HttpReq {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl HttpReq {
    /// The text format: request line (the target may contain raw spaces), headers
    /// (`Name:value`; lines starting with whitespace continue the previous value), blank
    /// line, body.
    fn parse(text: &str) -> HttpReq {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.split('\n');
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        let target = rest.strip_suffix(" HTTP/1.1").expect("HTTP/1.1");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("continuation without header");
                last.1.push(b'\n');
                last.1.extend_from_slice(line.as_bytes());
            } else {
                let (name, value) = line.split_once(':').expect("header colon");
                headers.push((name.to_owned(), value.as_bytes().to_vec()));
            }
        }
        HttpReq {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn header_refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect()
    }

    fn parts<'a>(&'a self, headers: &'a [(&'a str, &'a [u8])]) -> RequestParts<'a> {
        RequestParts {
            method: &self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers,
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers
            .push((name.to_owned(), value.as_bytes().to_vec()));
    }

    fn with_added(&self, added: &[(String, String)]) -> HttpReq {
        let mut r = self.clone();
        for (n, v) in added {
            r.headers.push((n.clone(), v.as_bytes().to_vec()));
        }
        r
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unix(rfc3339: &str) -> i64 {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .expect("timestamp")
        .unix_timestamp()
}

/// Collects failures so one run reports every broken case.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn eq(&mut self, label: &str, what: &str, got: &str, want: &str) {
        if got != want {
            self.0.push(format!(
                "{label}: {what}\n  got:  {got:?}\n  want: {want:?}"
            ));
        }
    }

    fn check(&mut self, label: &str, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(format!("{label}: {}", what()));
        }
    }

    fn finish(self, checked: usize, min_cases: usize) {
        assert!(
            checked >= min_cases,
            "only {checked} cases found (expected at least {min_cases}); is {DATA} present?"
        );
        assert!(
            self.0.is_empty(),
            "{} failure(s):\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Flip one bit of the last non-whitespace byte (never a pure case change).
fn flip_last(bytes: &mut [u8]) -> bool {
    match bytes.iter().rposition(|b| !b.is_ascii_whitespace()) {
        Some(i) => {
            bytes[i] ^= 1;
            true
        }
        None => false,
    }
}

/// `verify` accepts `req` at `now`, and rejects it after any single signed byte changes
/// (method, host, every other signed header, every query parameter, the signature, the
/// payload hash).
fn verify_and_tamper(
    fails: &mut Failures,
    label: &str,
    req: &HttpReq,
    secret: &str,
    payload: &PayloadHash<'_>,
    normalize: bool,
    now: i64,
) {
    let run = |r: &HttpReq, payload: &PayloadHash<'_>| -> Result<(), Sigv4Error> {
        let headers = r.header_refs();
        let parts = r.parts(&headers);
        let auth = parse(&parts)?.ok_or_else(|| Sigv4Error::Incomplete("no auth".into()))?;
        verify(&parts, &auth, secret, payload, normalize, now)
    };
    if let Err(e) = run(req, payload) {
        fails
            .0
            .push(format!("{label}: signed request rejected: {e:?}"));
        return;
    }
    let headers = req.header_refs();
    let auth = parse(&req.parts(&headers)).unwrap().unwrap();

    let mut must_mismatch: Vec<(String, HttpReq)> = Vec::new();
    let mut must_fail: Vec<(String, HttpReq)> = Vec::new();

    let mut r = req.clone();
    r.method.replace_range(0..1, "X");
    must_mismatch.push(("method".into(), r));

    for name in &auth.signed_headers {
        let mut r = req.clone();
        let Some(h) = r
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        if !flip_last(&mut h.1) {
            continue;
        }
        let case = (format!("header {name}"), r);
        if name == "host" {
            must_mismatch.push(case);
        } else {
            must_fail.push(case);
        }
    }

    match auth.kind {
        AuthKind::Header => {
            let mut r = req.clone();
            let h = r
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                .unwrap();
            flip_last(&mut h.1);
            must_mismatch.push(("signature".into(), r));
        }
        AuthKind::Query => {
            let parts: Vec<&str> = req.query.split('&').collect();
            for i in 0..parts.len() {
                let mut p: Vec<Vec<u8>> = parts.iter().map(|s| s.as_bytes().to_vec()).collect();
                flip_last(&mut p[i]);
                let mut r = req.clone();
                r.query = String::from_utf8(p.join(&b'&')).unwrap();
                let what = format!("query {}", parts[i].split('=').next().unwrap());
                if parts[i].starts_with("X-Amz-Signature=") {
                    must_mismatch.push((what, r));
                } else {
                    must_fail.push((what, r));
                }
            }
        }
    }

    for (what, r) in &must_mismatch {
        let res = run(r, payload);
        fails.check(
            label,
            matches!(res, Err(Sigv4Error::SignatureMismatch { .. })),
            || format!("tampered {what}: expected SignatureMismatch, got {res:?}"),
        );
    }
    for (what, r) in &must_fail {
        let res = run(r, payload);
        fails.check(label, res.is_err(), || {
            format!("tampered {what}: expected rejection, got {res:?}")
        });
    }
    let other = PayloadHash::of_body(b"tampered");
    let res = run(req, &other);
    fails.check(
        label,
        matches!(res, Err(Sigv4Error::SignatureMismatch { .. })),
        || format!("tampered payload: expected SignatureMismatch, got {res:?}"),
    );
}

// ---------------------------------------------------------------------------------------
// aws-c-auth signing suite (v4/)

#[test]
fn crt_v4_suite() {
    let root = PathBuf::from(DATA).join("sigv4/v4");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").exists())
        .collect();
    dirs.sort();
    let mut fails = Failures::default();
    for dir in &dirs {
        crt_case(&mut fails, dir);
    }
    fails.finish(dirs.len(), 38);
}

fn crt_case(fails: &mut Failures, dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let file = |f: &str| read(&dir.join(f));
    let ctx = read_json(&dir.join("context.json"));
    let creds = &ctx["credentials"];
    let akid = creds["access_key_id"].as_str().unwrap();
    let secret = creds["secret_access_key"].as_str().unwrap();
    let token = creds["token"].as_str();
    let region = ctx["region"].as_str().unwrap();
    let service = ctx["service"].as_str().unwrap();
    let normalize = ctx["normalize"].as_bool().unwrap();
    let sign_body = ctx["sign_body"].as_bool().unwrap();
    let omit_token = ctx["omit_session_token"].as_bool().unwrap_or(false);
    let expires = ctx["expiration_in_seconds"].as_u64().unwrap();
    let now = unix(ctx["timestamp"].as_str().unwrap());
    let amz_date = format_amz_date(now);

    let req0 = HttpReq::parse(&file("request.txt"));
    let payload_hex = sha256_hex(&req0.body);
    let payload = PayloadHash::Hex(payload_hex.clone());
    let mut params = SigningParams::new(akid, secret, region, service, &amz_date, &payload_hex);
    params.normalize_path = normalize;
    params.content_sha256_header = sign_body;
    params.session_token = if omit_token { None } else { token };
    let headers0 = req0.header_refs();

    // Header variant: sign, then compare with the files.
    let label = format!("v4/{name} [header]");
    let mut req1 = req0.with_added(&sign(&req0.parts(&headers0), &params));
    if omit_token {
        req1.set_header("X-Amz-Security-Token", token.unwrap());
    }
    let headers1 = req1.header_refs();
    let parts1 = req1.parts(&headers1);
    let auth = parse(&parts1).unwrap().unwrap();
    let creq = canonical_request(
        &parts1,
        &auth.signed_headers,
        &payload,
        normalize,
        AuthKind::Header,
    );
    fails.eq(
        &label,
        "canonical request",
        &creq,
        &file("header-canonical-request.txt"),
    );
    let sts = string_to_sign(&auth.amz_date, &auth.credential.scope(), &creq);
    fails.eq(
        &label,
        "string to sign",
        &sts,
        &file("header-string-to-sign.txt"),
    );
    fails.eq(
        &label,
        "signature",
        &auth.signature,
        file("header-signature.txt").trim(),
    );
    let res = verify(&parts1, &auth, secret, &payload, normalize, now);
    fails.check(&label, res.is_ok(), || {
        format!("own signature rejected: {res:?}")
    });
    let signed = HttpReq::parse(&file("header-signed-request.txt"));
    verify_and_tamper(fails, &label, &signed, secret, &payload, normalize, now);

    // Query (presigned) variant.
    if omit_token {
        // Skipped: see the module docs.
        return;
    }
    let label = format!("v4/{name} [query]");
    let mut req2 = req0.clone();
    req2.query = presign(&req0.parts(&headers0), &params, expires);
    let parts2 = req2.parts(&headers0);
    let auth = parse(&parts2).unwrap().unwrap();
    fails.check(&label, auth.kind == AuthKind::Query, || {
        format!("kind {:?}", auth.kind)
    });
    fails.check(&label, auth.presigned_expires == Some(expires), || {
        format!("expires {:?}", auth.presigned_expires)
    });
    fails.check(&label, auth.security_token.as_deref() == token, || {
        format!("token {:?}", auth.security_token)
    });
    let creq = canonical_request(
        &parts2,
        &auth.signed_headers,
        &payload,
        normalize,
        AuthKind::Query,
    );
    fails.eq(
        &label,
        "canonical request",
        &creq,
        &file("query-canonical-request.txt"),
    );
    let sts = string_to_sign(&auth.amz_date, &auth.credential.scope(), &creq);
    fails.eq(
        &label,
        "string to sign",
        &sts,
        &file("query-string-to-sign.txt"),
    );
    fails.eq(
        &label,
        "signature",
        &auth.signature,
        file("query-signature.txt").trim(),
    );
    let signed = HttpReq::parse(&file("query-signed-request.txt"));
    verify_and_tamper(fails, &label, &signed, secret, &payload, normalize, now);
}

// ---------------------------------------------------------------------------------------
// The 2015 suite (classic/)

const CLASSIC_AKID: &str = "AKIDEXAMPLE";
const CLASSIC_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const CLASSIC_TIME: &str = "2015-08-30T12:36:00Z";
/// `.sts`/`.authz`/`.sreq` do not match `.req`/`.creq` (see the module docs).
const CLASSIC_STALE: &[&str] = &["post-x-www-form-urlencoded-parameters"];

fn find_req_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            find_req_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "req") {
            out.push(path);
        }
    }
}

#[test]
fn classic_suite() {
    let mut reqs = Vec::new();
    find_req_files(&PathBuf::from(DATA).join("sigv4/classic"), &mut reqs);
    reqs.sort();
    let mut fails = Failures::default();
    for req in &reqs {
        classic_case(&mut fails, req);
    }
    fails.finish(reqs.len(), 33);
}

fn classic_case(fails: &mut Failures, req_path: &Path) {
    let name = req_path.file_stem().unwrap().to_string_lossy().into_owned();
    let label = format!("classic/{name}");
    let sibling = |ext: &str| read(&req_path.with_extension(ext));
    let creq_file = sibling("creq");
    let sreq = HttpReq::parse(&sibling("sreq"));
    let authz = sibling("authz").trim().to_owned();
    let now = unix(CLASSIC_TIME);
    let amz_date = format_amz_date(now);

    let mut req = HttpReq::parse(&sibling("req"));
    // get-vanilla-with-session-token: `.creq` signs a token header that `.req` lacks.
    if creq_file.contains("\nx-amz-security-token:") && req.header("x-amz-security-token").is_none()
    {
        let token =
            String::from_utf8(sreq.header("x-amz-security-token").unwrap().to_vec()).unwrap();
        req.set_header("X-Amz-Security-Token", &token);
    }
    let payload = PayloadHash::of_body(&req.body);
    let headers = req.header_refs();
    let parts = req.parts(&headers);

    // The suite signs every header of the request.
    let mut all: Vec<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    all.sort();
    all.dedup();
    let creq = canonical_request(&parts, &all, &payload, true, AuthKind::Header);
    fails.eq(&label, "canonical request", &creq, &creq_file);
    if CLASSIC_STALE.contains(&name.as_str()) {
        return;
    }

    // String to sign and signature, for the headers `.authz` says were signed.
    let mut with_authz = req.clone();
    with_authz.set_header("Authorization", &authz);
    let authz_headers = with_authz.header_refs();
    let auth = parse(&with_authz.parts(&authz_headers)).unwrap().unwrap();
    let creq = canonical_request(
        &parts,
        &auth.signed_headers,
        &payload,
        true,
        AuthKind::Header,
    );
    let sts = string_to_sign(&amz_date, &auth.credential.scope(), &creq);
    fails.eq(&label, "string to sign", &sts, &sibling("sts"));
    let key = signing_key(CLASSIC_SECRET, "20150830", "us-east-1", "service");
    fails.eq(&label, "signature", &signature(&key, &sts), &auth.signature);

    // The client signer reproduces `.authz` whenever it signs every header.
    if auth.signed_headers == all {
        let params = SigningParams::new(
            CLASSIC_AKID,
            CLASSIC_SECRET,
            "us-east-1",
            "service",
            &amz_date,
            payload.as_str(),
        );
        let added = sign(&parts, &params);
        let got = added
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.as_str());
        fails.eq(&label, "sign() authorization", got.unwrap_or(""), &authz);
    }

    // The signed request verifies (signature taken from `.authz`; see the module docs).
    let mut signed = sreq.clone();
    signed.set_header("Authorization", &authz);
    verify_and_tamper(fails, &label, &signed, CLASSIC_SECRET, &payload, true, now);
}

// ---------------------------------------------------------------------------------------
// S3 documentation examples

#[test]
fn s3_doc_examples() {
    let doc = read_json(&PathBuf::from(DATA).join("sigv4-s3/s3-doc-examples.json"));
    let akid = doc["access_key_id"].as_str().unwrap();
    let secret = doc["secret_access_key"].as_str().unwrap();
    let region = doc["region"].as_str().unwrap();
    let service = doc["service"].as_str().unwrap();
    let amz_date = doc["date"].as_str().unwrap();
    let now = lambent_aws::sigv4::parse_amz_date(amz_date).unwrap();
    let key = signing_key(secret, &amz_date[..8], region, service);
    let scope = format!("{}/{region}/{service}/aws4_request", &amz_date[..8]);
    let cases = doc["cases"].as_array().unwrap();
    let mut fails = Failures::default();

    for case in cases {
        let label = format!("s3/{}", case["name"].as_str().unwrap());
        let body = case["body"].as_str().unwrap_or("").as_bytes();
        let mut req = HttpReq {
            method: case["method"].as_str().unwrap().to_owned(),
            path: case["path"].as_str().unwrap().to_owned(),
            query: case["query"].as_str().unwrap_or("").to_owned(),
            headers: case["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(n, v)| (n.clone(), v.as_str().unwrap().as_bytes().to_vec()))
                .collect(),
            body: body.to_vec(),
        };
        let presigned = req.query.contains("X-Amz-Algorithm=");
        let kind = if presigned {
            AuthKind::Query
        } else {
            AuthKind::Header
        };
        let content_sha = req
            .header("x-amz-content-sha256")
            .map(|v| String::from_utf8(v.to_vec()).unwrap());
        let payload_str = match (&content_sha, presigned) {
            (_, true) => UNSIGNED_PAYLOAD.to_owned(),
            (Some(v), false) => v.clone(),
            (None, false) => panic!("{label}: S3 header auth needs x-amz-content-sha256"),
        };
        if payload_str.len() == 64 && case.get("body").is_some() {
            fails.eq(
                &label,
                "x-amz-content-sha256",
                &payload_str,
                &sha256_hex(body),
            );
        }
        let payload = PayloadHash::Literal(&payload_str);
        let signed_headers: Vec<String> = case["signed_headers"]
            .as_str()
            .unwrap()
            .split(';')
            .map(str::to_owned)
            .collect();
        let want_sig = case["signature"]
            .as_str()
            .or_else(|| case["seed_signature"].as_str())
            .unwrap();

        // Canonical request, string to sign, signature.
        let headers = req.header_refs();
        let parts = req.parts(&headers);
        let creq = canonical_request(&parts, &signed_headers, &payload, false, kind);
        fails.eq(
            &label,
            "canonical request",
            &creq,
            case["creq"].as_str().unwrap(),
        );
        let sts = string_to_sign(amz_date, &scope, &creq);
        fails.eq(
            &label,
            "string to sign",
            &sts,
            case["sts"].as_str().unwrap(),
        );
        fails.eq(&label, "signature", &signature(&key, &sts), want_sig);

        // The client signer reproduces it.
        let mut params = SigningParams::new(akid, secret, region, service, amz_date, &payload_str);
        assert!(!params.normalize_path && params.content_sha256_header);
        if presigned {
            let mut unsigned = req.clone();
            unsigned.query.clear();
            let h = unsigned.header_refs();
            let q = presign(&unsigned.parts(&h), &params, 86_400);
            fails.eq(
                &label,
                "presign()",
                &q,
                &format!("{}&X-Amz-Signature={want_sig}", req.query),
            );
            req.query = q;
        } else {
            let mut unsigned = req.clone();
            unsigned.headers.retain(|(n, _)| {
                !n.eq_ignore_ascii_case("x-amz-date")
                    && !n.eq_ignore_ascii_case("x-amz-content-sha256")
            });
            let h = unsigned.header_refs();
            params.payload = &payload_str;
            let added = sign(&unsigned.parts(&h), &params);
            let authz = added
                .iter()
                .find(|(n, _)| n == "authorization")
                .unwrap()
                .1
                .clone();
            fails.eq(
                &label,
                "sign() authorization",
                &authz,
                &format!(
                    "AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={}, Signature={want_sig}",
                    signed_headers.join(";")
                ),
            );
            // The S3 docs' header format (no space after the commas).
            req.set_header(
                "Authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential={akid}/{scope},SignedHeaders={},Signature={want_sig}",
                    signed_headers.join(";")
                ),
            );
        }

        // The server accepts it (S3 rules: normalize_path = false) and rejects tampering.
        verify_and_tamper(&mut fails, &label, &req, secret, &payload, false, now);

        // aws-chunked: chain the chunk signatures from the seed.
        if let Some(chunks) = case["chunk_signatures"].as_array() {
            let sizes = [65_536usize, 1024, 0];
            assert_eq!(chunks.len(), sizes.len(), "{label}");
            let mut previous = want_sig.to_owned();
            let mut wire_len = 0;
            for (size, want) in sizes.iter().zip(chunks) {
                let data = vec![b'a'; *size];
                let sig = chunk_signature(&key, amz_date, &scope, &previous, &sha256_hex(&data));
                fails.eq(
                    &label,
                    &format!("chunk {size}"),
                    &sig,
                    want.as_str().unwrap(),
                );
                let mut tampered = data.clone();
                if let Some(b) = tampered.last_mut() {
                    *b = b'b';
                    let bad =
                        chunk_signature(&key, amz_date, &scope, &previous, &sha256_hex(&tampered));
                    fails.check(&label, bad != sig, || {
                        format!("tampered chunk {size} still signs the same")
                    });
                }
                wire_len += format!("{size:x};chunk-signature={sig}\r\n").len() + size + 2;
                previous = sig;
            }
            let want_len = case["wire_length"].as_u64().unwrap();
            fails.check(&label, wire_len as u64 == want_len, || {
                format!("aws-chunked wire length {wire_len} != {want_len}")
            });
            let decoded: usize = sizes.iter().sum();
            fails.eq(
                &label,
                "x-amz-decoded-content-length",
                &decoded.to_string(),
                std::str::from_utf8(req.header("x-amz-decoded-content-length").unwrap()).unwrap(),
            );
        }
    }
    fails.finish(cases.len(), 6);
}
