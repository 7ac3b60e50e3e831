//! Rows from "Policy evaluation logic", "Cross-account policy evaluation logic", "Permissions
//! boundaries", "Session policies", the NotAction/NotResource/NotPrincipal pages and the
//! Action/Resource element pages of the IAM User Guide.

use super::*;

const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const S3_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DENY_S3_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
const NOT_IAM: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#;
const DENY_NOT_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]}]}"#;
const BOUNDARY_S3_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;
const BOUNDARY_DENY_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
const SESSION_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const SESSION_LIST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
const BUCKET_ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_SESSION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s1"},"Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_ROLE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/service/app"]},"Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_ROOT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_BOB: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_PUBLIC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":["arn:aws:s3:::bucket/*"]}]}"#;
const BUCKET_DENY_ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_DENY_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_NOT_PRINCIPAL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const BUCKET_UNIQUE_ID: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"},"Action":"s3:GetObject","Resource":"*"}]}"#;
const BUCKET_FEDERATED_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:federated-user/carol"},"Action":"s3:GetObject","Resource":"*"}]}"#;
const LAMBDA_S3_PERMISSION: &str = r#"{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3invoke","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:f","Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}}]}"#;
const TRUST_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_OTHER_EXTERNAL_ID: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique1234"}}}]}"#;
const TRUST_COGNITO: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:12345678-abcd-abcd-abcd-123456789012"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}]}"#;
const TRUST_DENY_ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}]}"#;
const ASSUME_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*"}]}"#;
const ALLOW_THEN_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"dynamodb:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":["dynamodb:DeleteTable","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:*:*:table/Prod*"}]}"#;
const WILDCARD_ACTIONS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*Object","iam:?etUser","IAM:listaccesskeys"],"Resource":"*"}]}"#;
const LAMBDA_REGION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:111122223333:function:app-*"}]}"#;
const BUCKET_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket"}]}"#;
const DENY_UNLESS_MFA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:ChangePassword","iam:GetUser","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
const LEGACY_VERSION: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const NO_VERSION: &str = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const CASE_RESOURCE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::Bucket/*"}]}"#;
const DENY_COND_FALSE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#;
const ALLOW_CROSS_ACCOUNT_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;

const BKT: &str = "arn:aws:s3:::bucket/key";

#[test]
fn policy_evaluation_logic() {
    let cases = vec![
        case("no policy at all: implicit deny", alice()).want(Implicit(Id)),
        case("identity policy allows", alice())
            .id(S3_READ)
            .want(Allow),
        case("identity policy for another action", alice())
            .id(S3_READ)
            .req("s3:PutObject", BKT)
            .want(Implicit(Id)),
        case("identity policy for another resource", alice())
            .id(S3_READ)
            .req("s3:GetObject", "arn:aws:s3:::other/key")
            .want(Implicit(Id)),
        case("statement as a single object", alice())
            .id(S3_ALL)
            .req("s3:PutObject", BKT)
            .want(Allow),
        case("admin allows anything", alice())
            .id(ADMIN)
            .req(
                "dynamodb:PutItem",
                "arn:aws:dynamodb:us-east-1:111122223333:table/T",
            )
            .want(Allow),
        case("explicit deny beats allow (two policies)", alice())
            .id(ADMIN)
            .id(DENY_S3_GET)
            .want(Explicit(Id)),
        case(
            "explicit deny beats allow, other action still allowed",
            alice(),
        )
        .id(ADMIN)
        .id(DENY_S3_GET)
        .req("s3:PutObject", BKT)
        .want(Allow),
        case("allow then deny in one policy: denied table", alice())
            .id(ALLOW_THEN_DENY)
            .req(
                "dynamodb:DeleteTable",
                "arn:aws:dynamodb:us-east-1:111122223333:table/Prod-orders",
            )
            .want(Explicit(Id)),
        case("allow then deny in one policy: other table", alice())
            .id(ALLOW_THEN_DENY)
            .req(
                "dynamodb:DeleteTable",
                "arn:aws:dynamodb:us-east-1:111122223333:table/test",
            )
            .want(Allow),
        case("deny whose condition is false does not apply", alice())
            .id(ADMIN)
            .id(DENY_COND_FALSE)
            .ctx("aws:RequestedRegion", &["us-east-1"])
            .want(Allow),
        case("deny whose condition is true applies", alice())
            .id(ADMIN)
            .id(DENY_COND_FALSE)
            .ctx("aws:RequestedRegion", &["eu-west-1"])
            .want(Explicit(Id)),
        case("NotAction allow: other services allowed", alice())
            .id(NOT_IAM)
            .req(
                "lambda:InvokeFunction",
                "arn:aws:lambda:us-east-1:111122223333:function:f",
            )
            .want(Allow),
        case("NotAction allow: the excluded service is not", alice())
            .id(NOT_IAM)
            .req("iam:CreateUser", "arn:aws:iam::111122223333:user/x")
            .want(Implicit(Id)),
        case("NotResource deny: the listed bucket stays allowed", alice())
            .id(S3_ALL)
            .id(DENY_NOT_BUCKET)
            .want(Allow),
        case("NotResource deny: other buckets denied", alice())
            .id(S3_ALL)
            .id(DENY_NOT_BUCKET)
            .req("s3:GetObject", "arn:aws:s3:::other/k")
            .want(Explicit(Id)),
        case("NotResource deny: only s3 actions", alice())
            .id(ADMIN)
            .id(DENY_NOT_BUCKET)
            .req(
                "logs:CreateLogGroup",
                "arn:aws:logs:us-east-1:111122223333:log-group:g",
            )
            .want(Allow),
        case("NotAction deny without MFA: denied", alice())
            .id(DENY_UNLESS_MFA)
            .req("s3:ListBucket", "arn:aws:s3:::bucket")
            .want(Explicit(Id)),
        case("NotAction deny without MFA: listed action allowed", alice())
            .id(DENY_UNLESS_MFA)
            .req("iam:ChangePassword", "arn:aws:iam::111122223333:user/alice")
            .want(Allow),
        case("NotAction deny with MFA present: allowed", alice())
            .id(DENY_UNLESS_MFA)
            .req("s3:ListBucket", "arn:aws:s3:::bucket")
            .ctx("aws:MultiFactorAuthPresent", &["true"])
            .want(Allow),
        case("NotAction deny with MFA false: denied", alice())
            .id(DENY_UNLESS_MFA)
            .req("s3:ListBucket", "arn:aws:s3:::bucket")
            .ctx("aws:MultiFactorAuthPresent", &["false"])
            .want(Explicit(Id)),
        case("action names are case-insensitive", alice())
            .id(WILDCARD_ACTIONS)
            .req("iam:ListAccessKeys", "arn:aws:iam::111122223333:user/alice")
            .want(Allow),
        case("action wildcard * inside the name", alice())
            .id(WILDCARD_ACTIONS)
            .req("s3:PutObject", BKT)
            .want(Allow),
        case("action wildcard ? for one character", alice())
            .id(WILDCARD_ACTIONS)
            .req("iam:GetUser", "arn:aws:iam::111122223333:user/alice")
            .want(Allow),
        case("action wildcard ? is exactly one character", alice())
            .id(WILDCARD_ACTIONS)
            .req("iam:ForgetUser", "arn:aws:iam::111122223333:user/alice")
            .want(Implicit(Id)),
        case("resource ARNs are case-sensitive", alice())
            .id(CASE_RESOURCE)
            .want(Implicit(Id)),
        case("resource wildcard in region segment", alice())
            .id(LAMBDA_REGION)
            .req(
                "lambda:InvokeFunction",
                "arn:aws:lambda:eu-west-1:111122223333:function:app-web",
            )
            .want(Allow),
        case("resource segment account mismatch", alice())
            .id(LAMBDA_REGION)
            .req(
                "lambda:InvokeFunction",
                "arn:aws:lambda:eu-west-1:999999999999:function:app-web",
            )
            .want(Implicit(Id)),
        case("resource wildcard does not match other names", alice())
            .id(LAMBDA_REGION)
            .req(
                "lambda:InvokeFunction",
                "arn:aws:lambda:eu-west-1:111122223333:function:db",
            )
            .want(Implicit(Id)),
        case("bucket ARN does not cover its objects", alice())
            .id(BUCKET_ONLY)
            .want(Implicit(Id)),
        case("bucket ARN covers the bucket", alice())
            .id(BUCKET_ONLY)
            .req("s3:ListBucket", "arn:aws:s3:::bucket")
            .want(Allow),
        case("2008-10-17 policy still allows", alice())
            .id(LEGACY_VERSION)
            .want(Allow),
        case("policy without Version still allows", alice())
            .id(NO_VERSION)
            .want(Allow),
    ];
    assert!(run(cases) >= 30);
}

#[test]
fn resource_policies_within_an_account() {
    let cases = vec![
        case(
            "bucket policy naming the user allows with no identity policy",
            alice(),
        )
        .res(BUCKET_ALICE)
        .want(Allow),
        case("bucket policy naming the user: other action", alice())
            .res(BUCKET_ALICE)
            .req("s3:PutObject", BKT)
            .want(Implicit(Id)),
        case(
            "bucket policy naming the user is not capped by a boundary",
            alice(),
        )
        .res(BUCKET_ALICE)
        .boundary(SESSION_LIST)
        .want(Allow),
        case("bucket policy naming another user", session())
            .res(BUCKET_ALICE)
            .want(Implicit(Id)),
        case("bucket policy naming the session ARN allows", session())
            .res(BUCKET_SESSION)
            .want(Allow),
        case(
            "session ARN grant is not limited by the session policy",
            session(),
        )
        .res(BUCKET_SESSION)
        .session(SESSION_LIST)
        .want(Allow),
        case(
            "session ARN grant is not limited by the boundary",
            session(),
        )
        .res(BUCKET_SESSION)
        .boundary(SESSION_LIST)
        .want(Allow),
        case(
            "bucket policy naming the role ARN allows its session",
            session(),
        )
        .res(BUCKET_ROLE)
        .want(Allow),
        case("role ARN grant is capped by the boundary", session())
            .res(BUCKET_ROLE)
            .boundary(SESSION_LIST)
            .want(Implicit(Pb)),
        case("role ARN grant is capped by the session policy", session())
            .res(BUCKET_ROLE)
            .session(SESSION_LIST)
            .want(Implicit(Sp)),
        case("role ARN grant within the session policy", session())
            .res(BUCKET_ROLE)
            .session(SESSION_GET)
            .want(Allow),
        case("bucket policy naming the account only delegates", alice())
            .res(BUCKET_ACCOUNT)
            .want(Implicit(Id)),
        case("account delegation plus identity allow", alice())
            .res(BUCKET_ACCOUNT)
            .id(S3_READ)
            .want(Allow),
        case("identity allow alone is enough in one account", alice())
            .res(BUCKET_BOB)
            .id(S3_READ)
            .want(Allow),
        case("public bucket policy allows anonymous", anonymous())
            .res(BUCKET_PUBLIC)
            .want(Allow),
        case("public bucket policy allows an IAM user", alice())
            .res(BUCKET_PUBLIC)
            .want(Allow),
        case("anonymous without a resource policy", anonymous())
            .id(ADMIN)
            .want(Implicit(Rp)),
        case("anonymous and a policy for someone else", anonymous())
            .res(BUCKET_ALICE)
            .want(Implicit(Rp)),
        case("resource policy deny beats identity allow", alice())
            .id(ADMIN)
            .res(BUCKET_DENY_ALICE)
            .want(Explicit(Rp)),
        case("resource policy deny for another principal", session())
            .id(ADMIN)
            .res(BUCKET_DENY_ALICE)
            .want(Allow),
        case("deny naming the account applies to its users", alice())
            .id(ADMIN)
            .res(BUCKET_DENY_ACCOUNT)
            .req("s3:DeleteObject", BKT)
            .want(Explicit(Rp)),
        case("NotPrincipal deny spares the listed user", alice())
            .id(ADMIN)
            .res(BUCKET_NOT_PRINCIPAL)
            .want(Allow),
        case("NotPrincipal deny hits everyone else", session())
            .id(ADMIN)
            .res(BUCKET_NOT_PRINCIPAL)
            .want(Explicit(Rp)),
        case("principal by unique id", alice())
            .res(BUCKET_UNIQUE_ID)
            .want(Allow),
        case("federated user session ARN", federated_user())
            .res(BUCKET_FEDERATED_USER)
            .want(Allow),
        case(
            "federated user capped only when named indirectly",
            federated_user(),
        )
        .res(BUCKET_FEDERATED_USER)
        .session(SESSION_LIST)
        .want(Allow),
        case(
            "service principal with matching source",
            service("s3.amazonaws.com"),
        )
        .res(LAMBDA_S3_PERMISSION)
        .req(
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111122223333:function:f",
        )
        .ctx("aws:SourceArn", &["arn:aws:s3:::bucket"])
        .ctx("aws:SourceAccount", &["111122223333"])
        .want(Allow),
        case(
            "service principal from another bucket",
            service("s3.amazonaws.com"),
        )
        .res(LAMBDA_S3_PERMISSION)
        .req(
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111122223333:function:f",
        )
        .ctx("aws:SourceArn", &["arn:aws:s3:::evil"])
        .ctx("aws:SourceAccount", &["111122223333"])
        .want(Implicit(Rp)),
        case(
            "service principal without source keys",
            service("s3.amazonaws.com"),
        )
        .res(LAMBDA_S3_PERMISSION)
        .req(
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111122223333:function:f",
        )
        .want(Implicit(Rp)),
        case("another service principal", service("sns.amazonaws.com"))
            .res(LAMBDA_S3_PERMISSION)
            .req(
                "lambda:InvokeFunction",
                "arn:aws:lambda:us-east-1:111122223333:function:f",
            )
            .ctx("aws:SourceArn", &["arn:aws:s3:::bucket"])
            .ctx("aws:SourceAccount", &["111122223333"])
            .want(Implicit(Rp)),
        case("root is allowed everything", root()).want(Allow),
        case("root is still explicitly denied", root())
            .res(BUCKET_DENY_ACCOUNT)
            .req("s3:DeleteObject", BKT)
            .want(Explicit(Rp)),
    ];
    assert!(run(cases) >= 30);
}

#[test]
fn boundaries_and_session_policies() {
    let cases = vec![
        case("boundary and identity both allow", alice())
            .id(S3_ALL)
            .boundary(BOUNDARY_S3_GET)
            .want(Allow),
        case("identity allows, boundary does not", alice())
            .id(S3_ALL)
            .boundary(BOUNDARY_S3_GET)
            .req("s3:PutObject", BKT)
            .want(Implicit(Pb)),
        case("boundary allows, identity does not", alice())
            .id(S3_READ)
            .boundary(BOUNDARY_S3_GET)
            .req("s3:ListBucket", "arn:aws:s3:::bucket")
            .want(Implicit(Id)),
        case("boundary alone grants nothing", alice())
            .boundary(ADMIN)
            .want(Implicit(Id)),
        case("deny in the boundary", alice())
            .id(ADMIN)
            .boundary(BOUNDARY_DENY_GET)
            .want(Explicit(Pb)),
        case("session policy intersects the role's", session())
            .id(S3_ALL)
            .session(SESSION_GET)
            .want(Allow),
        case("session policy does not allow", session())
            .id(S3_ALL)
            .session(SESSION_GET)
            .req("s3:PutObject", BKT)
            .want(Implicit(Sp)),
        case("session policy cannot grant beyond the role", session())
            .id(S3_READ)
            .session(ADMIN)
            .req("s3:PutObject", BKT)
            .want(Implicit(Id)),
        case("several session policies: any allow counts", session())
            .id(S3_ALL)
            .session(SESSION_LIST)
            .session(SESSION_GET)
            .want(Allow),
        case("deny in a session policy", session())
            .id(ADMIN)
            .session(DENY_S3_GET)
            .want(Explicit(Sp)),
        case("boundary checked before session policy", session())
            .id(S3_ALL)
            .boundary(SESSION_LIST)
            .session(SESSION_LIST)
            .want(Implicit(Pb)),
        case("role, boundary and session all allow", session())
            .id(S3_ALL)
            .boundary(BOUNDARY_S3_GET)
            .session(SESSION_GET)
            .want(Allow),
    ];
    assert!(run(cases) >= 12);
}

#[test]
fn cross_account_and_trust_policies() {
    let cases = vec![
        case(
            "cross-account: identity and bucket policy allow",
            bob_other_account(),
        )
        .id(ALLOW_CROSS_ACCOUNT_BUCKET)
        .res(BUCKET_BOB)
        .owner(ACCOUNT)
        .want(Allow),
        case(
            "cross-account: bucket policy alone is not enough",
            bob_other_account(),
        )
        .res(BUCKET_BOB)
        .owner(ACCOUNT)
        .want(Implicit(Id)),
        case(
            "cross-account: identity policy alone is not enough",
            bob_other_account(),
        )
        .id(ALLOW_CROSS_ACCOUNT_BUCKET)
        .owner(ACCOUNT)
        .want(Implicit(Rp)),
        case(
            "cross-account: bucket policy names the account",
            bob_other_account(),
        )
        .id(ALLOW_CROSS_ACCOUNT_BUCKET)
        .res(BUCKET_ROOT)
        .owner(ACCOUNT)
        .want(Allow),
        case(
            "cross-account: bucket policy for another account",
            bob_other_account(),
        )
        .id(ALLOW_CROSS_ACCOUNT_BUCKET)
        .res(BUCKET_ACCOUNT)
        .owner(ACCOUNT)
        .want(Implicit(Rp)),
        case(
            "cross-account: account from the resource ARN",
            bob_other_account(),
        )
        .id(LAMBDA_REGION)
        .req(
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111122223333:function:app-x",
        )
        .want(Implicit(Rp)),
        case(
            "cross-account: identity deny still wins",
            bob_other_account(),
        )
        .id(ADMIN)
        .id(DENY_S3_GET)
        .res(BUCKET_BOB)
        .owner(ACCOUNT)
        .want(Explicit(Id)),
        case("cross-account: root needs the resource policy", root())
            .owner(OTHER)
            .want(Implicit(Rp)),
        case(
            "trust: Lambda service may assume the execution role",
            service("lambda.amazonaws.com"),
        )
        .trust(TRUST_LAMBDA)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/exec")
        .want(Allow),
        case(
            "trust: another service may not",
            service("ec2.amazonaws.com"),
        )
        .trust(TRUST_LAMBDA)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/exec")
        .want(Implicit(Tp)),
        case(
            "trust: naming the user allows without identity policy",
            alice(),
        )
        .trust(TRUST_ALICE)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
        .want(Allow),
        case(
            "trust: identity allow is not enough without trust",
            session(),
        )
        .id(ASSUME_ANY)
        .trust(TRUST_ALICE)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
        .want(Implicit(Tp)),
        case("trust: naming the account needs an identity allow", alice())
            .trust(TRUST_ACCOUNT)
            .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
            .want(Implicit(Id)),
        case("trust: account plus identity allow", alice())
            .id(ASSUME_ANY)
            .trust(TRUST_ACCOUNT)
            .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
            .want(Allow),
        case(
            "trust: other account with the external id",
            bob_other_account(),
        )
        .id(ASSUME_ANY)
        .trust(TRUST_OTHER_EXTERNAL_ID)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
        .ctx("sts:ExternalId", &["Unique1234"])
        .want(Allow),
        case(
            "trust: other account without the external id",
            bob_other_account(),
        )
        .id(ASSUME_ANY)
        .trust(TRUST_OTHER_EXTERNAL_ID)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
        .want(Implicit(Tp)),
        case(
            "trust: other account without its own identity allow",
            bob_other_account(),
        )
        .trust(TRUST_OTHER_EXTERNAL_ID)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
        .ctx("sts:ExternalId", &["Unique1234"])
        .want(Implicit(Id)),
        case(
            "trust: cognito web identity, authenticated",
            web_identity("cognito-identity.amazonaws.com"),
        )
        .trust(TRUST_COGNITO)
        .req(
            "sts:AssumeRoleWithWebIdentity",
            "arn:aws:iam::111122223333:role/r",
        )
        .ctx(
            "cognito-identity.amazonaws.com:aud",
            &["us-east-1:12345678-abcd-abcd-abcd-123456789012"],
        )
        .ctx(
            "cognito-identity.amazonaws.com:amr",
            &[
                "authenticated",
                "cognito-identity.amazonaws.com:authenticated:x",
            ],
        )
        .want(Allow),
        case(
            "trust: cognito web identity, unauthenticated",
            web_identity("cognito-identity.amazonaws.com"),
        )
        .trust(TRUST_COGNITO)
        .req(
            "sts:AssumeRoleWithWebIdentity",
            "arn:aws:iam::111122223333:role/r",
        )
        .ctx(
            "cognito-identity.amazonaws.com:aud",
            &["us-east-1:12345678-abcd-abcd-abcd-123456789012"],
        )
        .ctx("cognito-identity.amazonaws.com:amr", &["unauthenticated"])
        .want(Implicit(Tp)),
        case("trust: explicit deny in the trust policy", alice())
            .id(ASSUME_ANY)
            .trust(TRUST_DENY_ALICE)
            .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
            .want(Explicit(Tp)),
    ];
    assert!(run(cases) >= 20);
}

#[test]
fn decisions_explain_themselves() {
    let c = case("", alice()).id(ADMIN).id(DENY_S3_GET);
    let d = c.decide();
    assert_eq!(d.eval_decision(), "explicitDeny");
    assert_eq!(d.matched.len(), 1);
    assert_eq!(d.matched[0].sid.as_deref(), Some("NoGet"));
    assert_eq!(d.matched[0].index, 0);
    assert_eq!(d.matched[0].kind, Id);
    assert_eq!(
        d.denial_message(&c.request(), false).unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key with an explicit deny in an identity-based policy"
    );

    let c = case("", session()).req(
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111122223333:function:f",
    );
    let d = c.decide();
    assert_eq!(d.eval_decision(), "implicitDeny");
    assert!(d.matched.is_empty());
    assert_eq!(
        d.denial_message(&c.request(), false).unwrap(),
        "User: arn:aws:sts::111122223333:assumed-role/app/s1 is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111122223333:function:f because no identity-based policy allows the lambda:InvokeFunction action"
    );

    let c = case("", alice());
    assert_eq!(
        c.decide().denial_message(&c.request(), true).unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::bucket/key\" because no identity-based policy allows the s3:GetObject action"
    );

    let messages = [
        (
            case("", alice()).id(S3_ALL).boundary(SESSION_LIST),
            "because no permissions boundary allows the s3:GetObject action",
        ),
        (
            case("", session()).id(S3_ALL).session(SESSION_LIST),
            "because no session policy allows the s3:GetObject action",
        ),
        (
            case("", session()).id(ADMIN).session(DENY_S3_GET),
            "with an explicit deny in a sessions policy",
        ),
        (
            case("", alice()).id(ADMIN).boundary(BOUNDARY_DENY_GET),
            "with an explicit deny in a permissions boundary",
        ),
        (
            case("", alice()).id(ADMIN).res(BUCKET_DENY_ALICE),
            "with an explicit deny in a resource-based policy",
        ),
        (
            case("", bob_other_account()).id(S3_READ).owner(ACCOUNT),
            "because no resource-based policy allows the s3:GetObject action",
        ),
    ];
    for (c, tail) in messages {
        let msg = c.decide().denial_message(&c.request(), false).unwrap();
        assert!(msg.ends_with(tail), "{msg}");
    }

    let c = case("", anonymous()).req("s3:ListAllMyBuckets", "*");
    assert_eq!(
        c.decide().denial_message(&c.request(), false).unwrap(),
        "User: anonymous is not authorized to perform: s3:ListAllMyBuckets because no resource-based policy allows the s3:ListAllMyBuckets action"
    );

    let c = case("", session())
        .trust(TRUST_ALICE)
        .req("sts:AssumeRole", "arn:aws:iam::111122223333:role/r");
    assert_eq!(
        c.decide().denial_message(&c.request(), false).unwrap(),
        "User: arn:aws:sts::111122223333:assumed-role/app/s1 is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/r"
    );

    let c = case("", alice()).id(S3_READ).res(BUCKET_ALICE);
    let d = c.decide();
    assert_eq!(d.eval_decision(), "allowed");
    assert_eq!(d.matched.len(), 2);
    assert!(d.denial_message(&c.request(), false).is_none());
}
