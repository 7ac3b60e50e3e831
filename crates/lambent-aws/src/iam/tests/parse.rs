//! Documents IAM refuses, each with AWS's error code and message.

use super::*;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn refused(doc: &str, kind: PolicyKind) -> PolicyError {
    match Policy::parse(doc, kind, &SizeLimit::None) {
        Ok(_) => panic!("accepted: {doc}"),
        Err(e) => e,
    }
}

#[test]
fn rejections_carry_aws_messages() {
    let syntax = "Syntax errors in policy.";
    let json = "This policy contains invalid Json";
    let rows: Vec<(&str, PolicyKind, &str)> = vec![
        ("", Id, json),
        ("{", Id, json),
        (r#"{"Version":"2012-10-17","Statement":[}"#, Id, json),
        ("not json", Id, json),
        ("[]", Id, syntax),
        (r#""text""#, Id, syntax),
        (r#"{"Version":"2012-10-18","Statement":[]}"#, Id, "The policy failed legacy parsing"),
        (r#"{"Version":2012,"Statement":[]}"#, Id, "The policy failed legacy parsing"),
        (r#"{"Version":"2012-10-17"}"#, Id, syntax),
        (r#"{"Version":"2012-10-17","Statement":"x"}"#, Id, syntax),
        (r#"{"Version":"2012-10-17","Statement":[1]}"#, Id, syntax),
        (r#"{"Version":"2012-10-17","Id":7,"Statement":[]}"#, Id, syntax),
        (r#"{"Version":"2012-10-17","Extra":1,"Statement":[]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Actions":"s3:*","Resource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Action":"s3:*","Resource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":["s3:*",null],"Resource":"*"}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, Id, "Policy statement must contain actions."),
        (r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#, Id, "Policy statement must contain actions."),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3","Resource":"*"}]}"#, Id, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (r#"{"Statement":[{"Effect":"Allow","Action":":Get","Resource":"*"}]}"#, Id, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#, Id, "Policy statement must contain resources."),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":[]}]}"#, Id, "Policy statement must contain resources."),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}]}"#, Id, r#"Resource bucket must be in ARN format or "*"."#),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3"}]}"#, Id, r#"Resource arn:aws:s3 must be in ARN format or "*"."#),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["*","arn:aws::::x"]}]}"#, Id, r#"Resource arn:aws::::x must be in ARN format or "*"."#),
        (r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#, Id, "Policy document should not specify a principal."),
        (r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}"#, Pb, "Policy document should not specify a principal."),
        (r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#, Sp, "Policy document should not specify a principal."),
        (r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#, Tp, "Missing required field Principal"),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#, Rp, "Missing required field Principal"),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#, Tp, "Has prohibited field Resource"),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","NotResource":"*"}]}"#, Tp, "Has prohibited field NotResource"),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/x"},"Action":"s3:*"}]}"#, Rp, "Policy statement must contain resources."),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"foo"},"Action":"sts:AssumeRole"}]}"#, Tp, r#"Invalid principal in policy: "AWS":"foo""#),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/*"},"Action":"sts:AssumeRole"}]}"#, Tp, r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*""#),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::bucket"},"Action":"sts:AssumeRole"}]}"#, Tp, r#"Invalid principal in policy: "AWS":"arn:aws:s3:::bucket""#),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{"Person":"me"},"Action":"sts:AssumeRole"}]}"#, Tp, r#"Invalid principal in policy: "Person":"me""#),
        (r#"{"Statement":[{"Effect":"Allow","Principal":"someone","Action":"sts:AssumeRole"}]}"#, Tp, r#"Invalid principal in policy: "AWS":"someone""#),
        (r#"{"Statement":[{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}]}"#, Tp, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}]}"#, Id, "Invalid Condition type : StringEqualz"),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}]}"#, Id, "Invalid Condition type : NullIfExists"),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{}}}]}"#, Id, "Invalid Condition type : ForSomeValues:StringEquals"),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":"x"}}]}"#, Id, syntax),
        (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":[]}]}"#, Id, syntax),
        (r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#, Id, "Statement IDs (SID) in a single policy must be unique."),
        (r#"{"Statement":[{"Sid":"has space","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#, Id, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
        (r#"{"Statement":[{"Sid":5,"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#, Id, syntax),
    ];
    let n = rows.len();
    for (doc, kind, want) in rows {
        let e = refused(doc, kind);
        assert_eq!(e.to_string(), want, "{doc}");
        assert_eq!(e.code(), "MalformedPolicyDocument");
    }
    assert!(n >= 50);
    // Sids with spaces are fine in resource policies (S3 bucket policies use them).
    let bucket = r#"{"Statement":[{"Sid":"Public read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    assert!(Policy::parse(bucket, Rp, &SizeLimit::None).is_ok());
    assert!(Policy::parse(TRUST, Tp, &SizeLimit::Trust).is_ok());
}

#[test]
fn deep_nesting_is_refused_promptly() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let e = refused(&deep, Id);
    assert_eq!(e.to_string(), "Syntax errors in policy.");
    let open_only = "{\"a\":".repeat(100_000);
    assert_eq!(
        refused(&open_only, Id).to_string(),
        "Syntax errors in policy."
    );
    let cond = |depth: usize| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"StringEquals":{{"k":{}"v"{}}}}}}}]}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    // Depth 6 + brackets: 21 levels are refused, a real policy's 7 are not.
    assert_eq!(
        refused(&cond(16), Id).to_string(),
        "Syntax errors in policy."
    );
    assert!(Policy::parse(&cond(1), Id, &SizeLimit::None).is_ok());
    // Brackets inside strings do not count.
    let in_string = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/{}\"]"}}]}}"#,
        "[{".repeat(50)
    );
    assert!(Policy::parse(&in_string, Id, &SizeLimit::None).is_ok());
}

#[test]
fn size_limits_count_non_whitespace_characters() {
    let with_len = |n: usize| {
        let base = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::"#;
        let tail = r#""}]}"#;
        format!("{base}{}{tail}", "b".repeat(n - base.len() - tail.len()))
    };
    assert!(Policy::parse(&with_len(6144), Id, &SizeLimit::Managed).is_ok());
    let e = Policy::parse(&with_len(6145), Id, &SizeLimit::Managed).unwrap_err();
    assert_eq!(e.to_string(), "Cannot exceed quota for PolicySize: 6144");
    assert_eq!(e.code(), "LimitExceeded");
    let padded = format!("{}{}", " \n\t".repeat(5000), with_len(6144));
    assert!(Policy::parse(&padded, Id, &SizeLimit::Managed).is_ok());
    let limits = [
        (
            SizeLimit::UserInline("alice".into()),
            2048,
            "Maximum policy size of 2048 bytes exceeded for user alice",
        ),
        (
            SizeLimit::RoleInline("app".into()),
            10240,
            "Maximum policy size of 10240 bytes exceeded for role app",
        ),
        (
            SizeLimit::GroupInline("devs".into()),
            5120,
            "Maximum policy size of 5120 bytes exceeded for group devs",
        ),
    ];
    for (limit, max, msg) in limits {
        assert!(Policy::parse(&with_len(max), Id, &limit).is_ok());
        assert_eq!(
            Policy::parse(&with_len(max + 1), Id, &limit)
                .unwrap_err()
                .to_string(),
            msg
        );
    }
    let trust = format!("{}{}", TRUST, " ".repeat(3000));
    assert!(Policy::parse(&trust, Tp, &SizeLimit::Trust).is_ok());
    let big_trust = TRUST.replace("lambda.amazonaws.com", &"x".repeat(2100));
    assert_eq!(
        Policy::parse(&big_trust, Tp, &SizeLimit::Trust)
            .unwrap_err()
            .to_string(),
        "Cannot exceed quota for ACLSizePerRole: 2048"
    );
}
