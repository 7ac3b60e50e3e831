//! Unit tests: parsing errors, clock checks, sign/verify round trips. The official
//! vectors are exercised by `tests/sigv4_vectors.rs`.

use super::*;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20150830T123600Z";
/// 2015-08-30T12:36:00Z
const T0: i64 = 1_440_938_160;

fn hdrs<'a>(list: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a [u8])> {
    list.iter().map(|(n, v)| (*n, v.as_bytes())).collect()
}

fn get<'a>(headers: &'a [(&'a str, &'a [u8])]) -> RequestParts<'a> {
    RequestParts {
        method: "GET",
        raw_path: "/",
        raw_query: "",
        headers,
    }
}

/// get-vanilla signed with `sign`, returned as owned (name, value) pairs.
fn signed_vanilla(params: &SigningParams<'_>) -> Vec<(String, String)> {
    let base = hdrs(&[("Host", "example.amazonaws.com")]);
    let mut all: Vec<(String, String)> = vec![("Host".into(), "example.amazonaws.com".into())];
    all.extend(sign(&get(&base), params));
    all
}

fn borrow(owned: &[(String, String)]) -> Vec<(&str, &[u8])> {
    owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect()
}

fn params() -> SigningParams<'static> {
    SigningParams::new(AKID, SECRET, "us-east-1", "service", AMZ_DATE, EMPTY_SHA256)
}

#[test]
fn epoch_constant_matches_amz_date() {
    assert_eq!(parse_amz_date(AMZ_DATE), Some(T0));
    assert_eq!(format_amz_date(T0), AMZ_DATE);
    assert_eq!(parse_amz_date("20150830T123600"), None);
    assert_eq!(parse_amz_date("20150230T123600Z"), None);
    assert_eq!(parse_amz_date("2015083OT123600Z"), None);
    assert_eq!(parse_amz_date("20150830T246000Z"), None);
}

#[test]
fn sign_matches_get_vanilla_and_verifies() {
    let owned = signed_vanilla(&params());
    let auth_value = &owned.iter().find(|(n, _)| n == "authorization").unwrap().1;
    assert_eq!(
        auth_value,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    let headers = borrow(&owned);
    let req = get(&headers);
    let auth = parse(&req).unwrap().unwrap();
    assert_eq!(auth.kind, AuthKind::Header);
    assert_eq!(auth.amz_date, AMZ_DATE);
    assert_eq!(
        auth.credential.scope(),
        "20150830/us-east-1/service/aws4_request"
    );
    verify(&req, &auth, SECRET, &PayloadHash::EMPTY, true, T0).unwrap();
    let key = signing_key(SECRET, "20150830", "us-east-1", "service");
    verify_with_signing_key(&req, &auth, &key, &PayloadHash::EMPTY, true, T0).unwrap();
    // Wrong secret, wrong payload.
    assert!(matches!(
        verify(&req, &auth, "nope", &PayloadHash::EMPTY, true, T0),
        Err(Sigv4Error::SignatureMismatch { .. })
    ));
    let err = verify(&req, &auth, SECRET, &PayloadHash::of_body(b"x"), true, T0).unwrap_err();
    let Sigv4Error::SignatureMismatch {
        canonical_request,
        string_to_sign,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(canonical_request.ends_with(&sha256_hex(b"x")));
    assert!(string_to_sign.starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n"));
    assert_eq!(err.json_code(), "InvalidSignatureException");
    assert_eq!(err.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn no_auth_is_none() {
    let headers = hdrs(&[("Host", "example.amazonaws.com"), ("X-Amz-Date", AMZ_DATE)]);
    assert_eq!(parse(&get(&headers)), Ok(None));
    let req = RequestParts {
        raw_query: "Param1=value1&X-Amz-Date=20150830T123600Z",
        ..get(&headers)
    };
    assert_eq!(parse(&req), Ok(None));
    assert_eq!(parse(&get(&[])), Ok(None));
}

#[test]
fn malformed_header_is_incomplete() {
    // AWS's own wording (SES/coral), components checked in this order.
    let headers = hdrs(&[
        ("Host", "h"),
        ("X-Amz-Date", AMZ_DATE),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=ABCDEF"),
    ]);
    let err = parse(&get(&headers)).unwrap_err();
    assert_eq!(
        err,
        Sigv4Error::Incomplete(
            "Authorization header requires 'Signature' parameter. Authorization header requires \
             'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
                .into()
        )
    );
    assert_eq!(err.json_code(), "IncompleteSignatureException");
    assert_eq!(err.s3_code(), "AuthorizationHeaderMalformed");

    // A bearer token and no date: everything is missing.
    let headers = hdrs(&[
        ("Host", "h"),
        ("Authorization", "eyJhbGciOiJIUzI1NiJ9.e30.x"),
    ]);
    assert_eq!(
        parse(&get(&headers)).unwrap_err().message(),
        "Authorization header requires 'Credential' parameter. Authorization header requires \
         'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=eyJhbGciOiJIUzI1NiJ9.e30.x"
    );

    // A stray token without '='.
    let value = "AWS4-HMAC-SHA256 Credential=AKID /20210706/us-east-2/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=abc";
    let headers = hdrs(&[
        ("Host", "h"),
        ("X-Amz-Date", AMZ_DATE),
        ("Authorization", value),
    ]);
    assert_eq!(
        parse(&get(&headers)).unwrap_err(),
        Sigv4Error::Incomplete(format!(
            "'/20210706/us-east-2/dynamodb/aws4_request' not a valid key=value pair (missing \
             equal-sign) in Authorization header: '{value}'."
        ))
    );

    // Wrong number of credential elements; wrong terminator.
    let headers = hdrs(&[
        ("Host", "h"),
        ("X-Amz-Date", AMZ_DATE),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, Signature=abc",
        ),
    ]);
    assert_eq!(
        parse(&get(&headers)).unwrap_err(),
        Sigv4Error::Incomplete(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AKID/20150830/us-east-1/aws4_request'"
                .into()
        )
    );
    let headers = hdrs(&[
        ("Host", "h"),
        ("X-Amz-Date", AMZ_DATE),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/svc/aws5, SignedHeaders=host, Signature=abc",
        ),
    ]);
    assert_eq!(
        parse(&get(&headers)).unwrap_err().to_string(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5'."
    );
}

#[test]
fn header_parsing_is_tolerant() {
    for value in [
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/svc/aws4_request,SignedHeaders=host;x-amz-date,Signature=abc",
        "AWS4-HMAC-SHA256  Credential=AKID/20150830/us-east-1/svc/aws4_request ,  SignedHeaders=Host;X-Amz-Date , Signature=abc ",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/svc/aws4_request SignedHeaders=host;x-amz-date Signature=abc Extra=1",
    ] {
        let headers = hdrs(&[("host", "h"), ("x-amz-date", AMZ_DATE), ("authorization", value)]);
        let auth = parse(&get(&headers)).unwrap().unwrap();
        assert_eq!(auth.credential.access_key_id, "AKID");
        assert_eq!(auth.credential.service, "svc");
        assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(auth.signature, "abc");
        assert_eq!(auth.security_token, None);
        assert_eq!(auth.presigned_expires, None);
    }
}

#[test]
fn missing_and_bad_dates() {
    let value = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/svc/aws4_request, SignedHeaders=host, Signature=abc";
    let headers = hdrs(&[("Host", "h"), ("Authorization", value)]);
    assert_eq!(parse(&get(&headers)), Err(Sigv4Error::MissingDate));
    let headers = hdrs(&[
        ("Host", "h"),
        ("X-Amz-Date", "2015-08-30T12:36:00Z"),
        ("Authorization", value),
    ]);
    assert_eq!(
        parse(&get(&headers)),
        Err(Sigv4Error::BadDate("2015-08-30T12:36:00Z".into()))
    );
    // The Date header is the fallback, in RFC 1123 or ISO basic form.
    for date in ["Sun, 30 Aug 2015 12:36:00 GMT", AMZ_DATE] {
        let headers = hdrs(&[("Host", "h"), ("Date", date), ("Authorization", value)]);
        assert_eq!(parse(&get(&headers)).unwrap().unwrap().amz_date, AMZ_DATE);
    }
    let headers = hdrs(&[
        ("Host", "h"),
        ("Date", "yesterday"),
        ("Authorization", value),
    ]);
    assert_eq!(
        parse(&get(&headers)),
        Err(Sigv4Error::BadDate("yesterday".into()))
    );
}

#[test]
fn other_algorithms_and_ambiguity() {
    let headers = hdrs(&[
        ("Host", "h"),
        ("X-Amz-Date", AMZ_DATE),
        ("Authorization", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/svc/aws4_request, SignedHeaders=host, Signature=abc"),
    ]);
    assert_eq!(
        parse(&get(&headers)),
        Err(Sigv4Error::UnsupportedAlgorithm(
            "AWS4-ECDSA-P256-SHA256".into()
        ))
    );
    let headers = hdrs(&[
        ("Host", "h"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=x"),
    ]);
    let req = RequestParts {
        raw_query: "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        ..get(&headers)
    };
    assert_eq!(parse(&req), Err(Sigv4Error::AmbiguousAuth));
    let headers = hdrs(&[("Host", "h")]);
    let req = RequestParts {
        raw_query: "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Signature=x&X-Amz-SignedHeaders=host&X-Amz-Date=20150830T123600Z",
        ..get(&headers)
    };
    assert_eq!(
        parse(&req),
        Err(Sigv4Error::UnsupportedAlgorithm(
            "AWS4-ECDSA-P256-SHA256".into()
        ))
    );
}

#[test]
fn malformed_query_is_incomplete_query() {
    let headers = hdrs(&[("Host", "h")]);
    let req = RequestParts {
        raw_query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsvc%2Faws4_request",
        ..get(&headers)
    };
    let err = parse(&req).unwrap_err();
    assert_eq!(
        err,
        Sigv4Error::IncompleteQuery(
            "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string \
             parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must \
             include 'X-Amz-Date'. Re-examine the query-string parameters."
                .into()
        )
    );
    assert_eq!(err.s3_code(), "AuthorizationQueryParametersError");

    let base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsvc%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
    for (expires, msg) in [
        (
            "604801",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
        ("-5", "X-Amz-Expires must be non-negative"),
        ("soon", "X-Amz-Expires should be a number"),
    ] {
        let q = format!("{base}&X-Amz-Expires={expires}");
        let req = RequestParts {
            raw_query: &q,
            ..get(&headers)
        };
        assert_eq!(parse(&req), Err(Sigv4Error::IncompleteQuery(msg.into())));
    }
    let q = format!("{base}&X-Amz-Expires=604800&X-Amz-Security-Token=a%2Bb%2F%3D");
    let req = RequestParts {
        raw_query: &q,
        ..get(&headers)
    };
    let auth = parse(&req).unwrap().unwrap();
    assert_eq!(auth.kind, AuthKind::Query);
    assert_eq!(auth.presigned_expires, Some(604_800));
    assert_eq!(auth.security_token.as_deref(), Some("a+b/="));
    assert_eq!(auth.credential.region, "us-east-1");
}

#[test]
fn header_auth_clock_skew() {
    let owned = signed_vanilla(&params());
    let headers = borrow(&owned);
    let req = get(&headers);
    let auth = parse(&req).unwrap().unwrap();
    let ok = |now| verify(&req, &auth, SECRET, &PayloadHash::EMPTY, true, now);
    ok(T0 + 900).unwrap();
    ok(T0 - 900).unwrap();
    let late = ok(T0 + 901).unwrap_err();
    assert_eq!(
        late.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    );
    assert_eq!(late.json_code(), "InvalidSignatureException");
    assert_eq!(late.s3_code(), "RequestTimeTooSkewed");
    let early = ok(T0 - 901).unwrap_err();
    assert_eq!(
        early.message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
    );
    // The clock is checked before the signature: an expired request with a bad
    // signature reports the expiry, as AWS does.
    assert!(matches!(
        verify(&req, &auth, "wrong", &PayloadHash::EMPTY, true, T0 + 3600),
        Err(Sigv4Error::Expired { future: false, .. })
    ));
}

#[test]
fn presign_expiry() {
    let base = hdrs(&[("Host", "example.amazonaws.com")]);
    let q = presign(&get(&base), &params(), 3600);
    assert_eq!(
        q,
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
    );
    let req = RequestParts {
        raw_query: &q,
        ..get(&base)
    };
    let auth = parse(&req).unwrap().unwrap();
    let at = |now| verify(&req, &auth, SECRET, &PayloadHash::EMPTY, true, now);
    at(T0).unwrap();
    at(T0 + 3600).unwrap();
    at(T0 - 900).unwrap();
    let err = at(T0 + 3601).unwrap_err();
    assert_eq!(
        err,
        Sigv4Error::PresignExpired {
            expires: 3600,
            expired_at: "2015-08-30T13:36:00Z".into(),
            server_time: "2015-08-30T13:36:01Z".into(),
        }
    );
    assert_eq!(err.message(), "Request has expired");
    assert_eq!(err.s3_code(), "AccessDenied");
    assert_eq!(
        at(T0 - 901),
        Err(Sigv4Error::PresignNotYetValid {
            amz_date: AMZ_DATE.into(),
            server_time: "20150830T122059Z".into(),
        })
    );
    // Tampering with a query byte breaks the signature.
    let tampered = q.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601");
    let req = RequestParts {
        raw_query: &tampered,
        ..get(&base)
    };
    let auth = parse(&req).unwrap().unwrap();
    assert!(matches!(
        verify(&req, &auth, SECRET, &PayloadHash::EMPTY, true, T0),
        Err(Sigv4Error::SignatureMismatch { .. })
    ));
}

#[test]
fn scope_date_and_signed_host_are_enforced() {
    let value = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150829/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    let headers = hdrs(&[
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", AMZ_DATE),
        ("Authorization", value),
    ]);
    let req = get(&headers);
    let auth = parse(&req).unwrap().unwrap();
    assert_eq!(
        verify(&req, &auth, SECRET, &PayloadHash::EMPTY, true, T0),
        Err(Sigv4Error::ScopeDateMismatch {
            scope_date: "20150829".into(),
            amz_date: AMZ_DATE.into()
        })
    );

    let value = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    let headers = hdrs(&[
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", AMZ_DATE),
        ("Authorization", value),
    ]);
    let req = get(&headers);
    let auth = parse(&req).unwrap().unwrap();
    let err = verify(&req, &auth, SECRET, &PayloadHash::EMPTY, true, T0).unwrap_err();
    assert_eq!(err, Sigv4Error::MissingSignedHost);
    assert_eq!(
        err.message(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn lambda_style_round_trip_with_session_token() {
    // A Lambda invoke by ARN: the wire path carries %3A, signed as %253A.
    let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations";
    let body = br#"{"k":"v"}"#;
    let payload = sha256_hex(body);
    let mut p = SigningParams::new(AKID, SECRET, "us-east-1", "lambda", AMZ_DATE, &payload);
    p.session_token = Some("TOKEN+/=");
    let base = hdrs(&[
        ("Host", "localhost:9000"),
        ("Content-Type", "application/json"),
        ("User-Agent", "lambent-cli"),
    ]);
    let base_req = RequestParts {
        method: "POST",
        raw_path: path,
        raw_query: "Qualifier=%24LATEST",
        headers: &base,
    };
    let added = sign(&base_req, &p);
    let names: Vec<&str> = added.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["x-amz-date", "x-amz-security-token", "authorization"]
    );
    let mut owned: Vec<(String, String)> = [
        ("Host", "localhost:9000"),
        ("Content-Type", "application/json"),
        ("User-Agent", "lambent-cli/2"), // not signed: may change in transit
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    owned.extend(added);
    let headers = borrow(&owned);
    let req = RequestParts {
        headers: &headers,
        ..base_req
    };
    let auth = parse(&req).unwrap().unwrap();
    assert_eq!(
        auth.signed_headers,
        ["content-type", "host", "x-amz-date", "x-amz-security-token"]
    );
    assert_eq!(auth.security_token.as_deref(), Some("TOKEN+/="));
    let creq = canonical_request(
        &req,
        &auth.signed_headers,
        &PayloadHash::Hex(payload.clone()),
        true,
        AuthKind::Header,
    );
    assert!(creq.starts_with(
        "POST\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Amy-fn/invocations\nQualifier=%24LATEST\n"
    ));
    verify(&req, &auth, SECRET, &PayloadHash::of_body(body), true, T0).unwrap();
    // Single-encoding (S3 rules) yields a different canonical URI, hence a mismatch.
    assert!(verify(&req, &auth, SECRET, &PayloadHash::of_body(body), false, T0).is_err());
    // A different body breaks it.
    assert!(verify(&req, &auth, SECRET, &PayloadHash::of_body(b"{}"), true, T0).is_err());
}

#[test]
fn signing_params_debug_redacts_secrets() {
    let mut p = params();
    p.session_token = Some("sekrit-token");
    let dbg = format!("{p:?}");
    assert!(!dbg.contains(SECRET));
    assert!(!dbg.contains("sekrit-token"));
    assert!(dbg.contains(AKID));
}

#[test]
fn chunk_and_trailer_signatures_chain() {
    let key = signing_key(SECRET, "20150830", "us-east-1", "s3");
    let scope = "20150830/us-east-1/s3/aws4_request";
    let a = chunk_signature(&key, AMZ_DATE, scope, "seed", &sha256_hex(b"data"));
    let b = chunk_signature(&key, AMZ_DATE, scope, "seed", &sha256_hex(b"datb"));
    let c = chunk_signature(&key, AMZ_DATE, scope, "seeD", &sha256_hex(b"data"));
    assert_eq!(a.len(), 64);
    assert_ne!(a, b);
    assert_ne!(a, c);
    let t = trailer_signature(
        &key,
        AMZ_DATE,
        scope,
        &a,
        &sha256_hex(b"x-amz-checksum-crc32:AAAAAA==\n"),
    );
    assert_eq!(t.len(), 64);
    assert_ne!(t, a);
}
