//! Rows from "IAM JSON policy elements: Condition operators", "Multivalued context keys" and
//! "Policy variables" in the IAM User Guide.

use super::*;

/// An Allow-everything statement guarded by `condition` (a JSON object).
fn when(condition: &str) -> &'static str {
    Box::leak(
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{condition}}}]}}"#)
            .into_boxed_str(),
    )
}

/// An Allow of `s3:*` on `resource`, in a document of `version` ("" for none).
fn on(version: &str, resource: &str) -> &'static str {
    let v = if version.is_empty() {
        String::new()
    } else {
        format!(r#""Version":"{version}","#)
    };
    Box::leak(
        format!(
            r#"{{{v}"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"{resource}"}}]}}"#
        )
        .into_boxed_str(),
    )
}

const V12: &str = "2012-10-17";
const IP: &str = "aws:SourceIp";

#[test]
fn condition_operators() {
    let u = alice;
    let cases = vec![
        case("StringEquals on a principal tag", u()).id(when(r#"{"StringEquals":{"aws:PrincipalTag/team":"blue"}}"#)).want(Allow),
        case("StringEquals is case-sensitive in values", u()).id(when(r#"{"StringEquals":{"aws:PrincipalTag/team":"Blue"}}"#)).want(Implicit(Id)),
        case("condition key names are case-insensitive", u()).id(when(r#"{"StringEquals":{"AWS:PRINCIPALTAG/TEAM":"blue"}}"#)).want(Allow),
        case("several values are OR'ed", session()).id(when(r#"{"StringEquals":{"aws:PrincipalTag/department":["Finance","Engineering"]}}"#)).want(Allow),
        case("several keys are AND'ed", u()).id(when(r#"{"StringEquals":{"aws:PrincipalTag/team":"blue","aws:RequestedRegion":"us-east-1"}}"#)).ctx("aws:RequestedRegion", &["eu-west-1"]).want(Implicit(Id)),
        case("several operators are AND'ed", u()).id(when(r#"{"StringEquals":{"aws:PrincipalTag/team":"blue"},"Bool":{"aws:SecureTransport":"true"}}"#)).ctx("aws:SecureTransport", &["true"]).want(Allow),
        case("missing key: positive operator is false", u()).id(when(r#"{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}"#)).want(Implicit(Id)),
        case("missing key: negated operator is true", u()).id(when(r#"{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}"#)).want(Allow),
        case("StringNotEquals with several values is NOR", u()).id(when(r#"{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}}"#)).ctx("aws:RequestedRegion", &["us-west-2"]).want(Implicit(Id)),
        case("StringNotEquals, value not listed", u()).id(when(r#"{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}}"#)).ctx("aws:RequestedRegion", &["eu-west-1"]).want(Allow),
        case("StringEqualsIgnoreCase", u()).id(when(r#"{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"BLUE"}}"#)).want(Allow),
        case("StringNotEqualsIgnoreCase", u()).id(when(r#"{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"BLUE"}}"#)).want(Implicit(Id)),
        case("StringLike with *", u()).id(when(r#"{"StringLike":{"s3:prefix":"home/*"}}"#)).ctx("s3:prefix", &["home/alice/docs"]).want(Allow),
        case("StringLike with ?", u()).id(when(r#"{"StringLike":{"s3:prefix":"v?"}}"#)).ctx("s3:prefix", &["v12"]).want(Implicit(Id)),
        case("StringEquals treats * literally", u()).id(when(r#"{"StringEquals":{"s3:prefix":"home/*"}}"#)).ctx("s3:prefix", &["home/alice"]).want(Implicit(Id)),
        case("StringNotLike", u()).id(when(r#"{"StringNotLike":{"s3:prefix":"private/*"}}"#)).ctx("s3:prefix", &["private/x"]).want(Implicit(Id)),
        case("NumericLessThanEquals s3:max-keys", u()).id(when(r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#)).ctx("s3:max-keys", &["10"]).want(Allow),
        case("NumericLessThanEquals over the limit", u()).id(when(r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#)).ctx("s3:max-keys", &["11"]).want(Implicit(Id)),
        case("Numeric value as a JSON number", u()).id(when(r#"{"NumericEquals":{"s3:max-keys":10}}"#)).ctx("s3:max-keys", &["10.0"]).want(Allow),
        case("NumericNotEquals", u()).id(when(r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#)).ctx("s3:max-keys", &["5"]).want(Allow),
        case("NumericGreaterThan", u()).id(when(r#"{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}"#)).ctx("aws:MultiFactorAuthAge", &["3601"]).want(Allow),
        case("NumericGreaterThanEquals / LessThan", u()).id(when(r#"{"NumericGreaterThanEquals":{"n":"1.5"},"NumericLessThan":{"n":"2"}}"#)).ctx("n", &["1.5"]).want(Allow),
        case("numeric operator on text matches nothing", u()).id(when(r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#)).ctx("s3:max-keys", &["ten"]).want(Implicit(Id)),
        case("DateGreaterThan aws:TokenIssueTime", session()).id(when(r#"{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}"#)).ctx("aws:TokenIssueTime", &["2024-05-01T10:00:00Z"]).want(Allow),
        case("DateLessThan aws:CurrentTime, expired", u()).id(when(r#"{"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}"#)).ctx("aws:CurrentTime", &["2024-05-01T10:00:00Z"]).want(Implicit(Id)),
        case("date range with both bounds", u()).id(when(r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}"#)).ctx("aws:CurrentTime", &["2020-05-01T12:00:00Z"]).want(Allow),
        case("Date in epoch seconds against ISO", u()).id(when(r#"{"DateLessThanEquals":{"aws:EpochTime":"2019-07-16T12:00:00Z"}}"#)).ctx("aws:EpochTime", &["1563278400"]).want(Allow),
        case("DateEquals across offsets", u()).id(when(r#"{"DateEquals":{"aws:CurrentTime":"2019-07-16T13:00:00+01:00"}}"#)).ctx("aws:CurrentTime", &["2019-07-16T12:00:00Z"]).want(Allow),
        case("DateNotEquals", u()).id(when(r#"{"DateNotEquals":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}}"#)).ctx("aws:CurrentTime", &["2019-07-16T12:00:01Z"]).want(Allow),
        case("DateGreaterThanEquals, epoch policy value", u()).id(when(r#"{"DateGreaterThanEquals":{"aws:CurrentTime":1563278400}}"#)).ctx("aws:CurrentTime", &["2019-07-16T12:00:00Z"]).want(Allow),
        case("Bool deny over plain HTTP", u()).id(when(r#"{}"#)).id(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#).ctx("aws:SecureTransport", &["false"]).want(Explicit(Id)),
        case("Bool deny not applied over TLS", u()).id(when(r#"{}"#)).id(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#).ctx("aws:SecureTransport", &["true"]).want(Allow),
        case("Bool with a JSON boolean", u()).id(when(r#"{"Bool":{"aws:MultiFactorAuthPresent":true}}"#)).ctx("aws:MultiFactorAuthPresent", &["true"]).want(Allow),
        case("Bool on a missing key is false", u()).id(when(r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#)).want(Implicit(Id)),
        case("BinaryEquals base64", u()).id(when(r#"{"BinaryEquals":{"key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#)).ctx("key", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]).want(Allow),
        case("BinaryEquals other bytes", u()).id(when(r#"{"BinaryEquals":{"key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#)).ctx("key", &["b3RoZXI="]).want(Implicit(Id)),
        case("IpAddress in the range", u()).id(when(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#)).ctx(IP, &["203.0.113.77"]).want(Allow),
        case("IpAddress outside the range", u()).id(when(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#)).ctx(IP, &["198.51.100.1"]).want(Implicit(Id)),
        case("IpAddress IPv6 range", u()).id(when(r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}"#)).ctx(IP, &["2001:db8:1234:5678::42"]).want(Allow),
        case("IpAddress single address", u()).id(when(r#"{"IpAddress":{"aws:SourceIp":"192.0.2.10"}}"#)).ctx(IP, &["192.0.2.10"]).want(Allow),
        case("NotIpAddress deny from outside", u()).id(when(r#"{}"#)).id(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}}"#).ctx(IP, &["198.51.100.7"]).want(Explicit(Id)),
        case("NotIpAddress deny spares the office", u()).id(when(r#"{}"#)).id(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}}"#).ctx(IP, &["192.0.2.99"]).want(Allow),
        case("ArnLike aws:SourceArn", service("cloudtrail.amazonaws.com")).res(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}}]}"#).req("s3:PutObject", "arn:aws:s3:::bucket/AWSLogs/x").ctx("aws:SourceArn", &["arn:aws:cloudtrail:us-east-2:111122223333:trail/main"]).want(Allow),
        case("ArnLike segments: wrong account", service("cloudtrail.amazonaws.com")).res(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}}]}"#).req("s3:PutObject", "arn:aws:s3:::bucket/AWSLogs/x").ctx("aws:SourceArn", &["arn:aws:cloudtrail:us-east-2:999999999999:trail/main"]).want(Implicit(Rp)),
        case("ArnEquals allows wildcards too", u()).id(when(r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}"#)).want(Allow),
        case("ArnNotLike", session()).id(when(r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/service/*"}}"#)).want(Implicit(Id)),
        case("ArnNotEquals on a missing key is true", u()).id(when(r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}"#)).want(Allow),
        case("aws:PrincipalArn of a session is the role ARN", session()).id(when(r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/service/app"}}"#)).want(Allow),
        case("aws:PrincipalAccount and aws:PrincipalType", session()).id(when(r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333","aws:PrincipalType":"AssumedRole"}}"#)).want(Allow),
        case("aws:username exists only for users", session()).id(when(r#"{"StringLike":{"aws:username":"*"}}"#)).want(Implicit(Id)),
        case("aws:userid of a session", session()).id(when(r#"{"StringLike":{"aws:userid":"AROAJQABLZS4A3QDU576Q:*"}}"#)).want(Allow),
        case("Null true: key absent (long-term credentials)", u()).id(when(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#)).want(Allow),
        case("Null true: key present", session()).id(when(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#)).ctx("aws:TokenIssueTime", &["2024-01-01T00:00:00Z"]).want(Implicit(Id)),
        case("Null false: key present", session()).id(when(r#"{"Null":{"aws:TokenIssueTime":false}}"#)).ctx("aws:TokenIssueTime", &["2024-01-01T00:00:00Z"]).want(Allow),
        case("StringEqualsIfExists on a missing key", u()).id(when(r#"{"StringEqualsIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}}"#)).want(Allow),
        case("StringLikeIfExists with the key present", u()).id(when(r#"{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}}"#)).ctx("ec2:InstanceType", &["m5.large"]).want(Implicit(Id)),
        case("NumericLessThanIfExists present and true", u()).id(when(r#"{"NumericLessThanIfExists":{"n":"5"}}"#)).ctx("n", &["4"]).want(Allow),
        case("BoolIfExists deny without MFA key", u()).id(when("{}")).id(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#).want(Explicit(Id)),
        case("ForAllValues on allowed tag keys", u()).id(when(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#)).ctx("aws:TagKeys", &["environment", "cost-center"]).want(Allow),
        case("ForAllValues with an extra tag key", u()).id(when(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#)).ctx("aws:TagKeys", &["environment", "owner"]).want(Implicit(Id)),
        case("ForAllValues on a missing key is true", u()).id(when(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment"]}}"#)).want(Allow),
        case("ForAllValues on an empty key is true", u()).id(when(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment"]}}"#)).ctx("aws:TagKeys", &[]).want(Allow),
        case("ForAnyValue with one matching tag key", u()).id(when(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#)).ctx("aws:TagKeys", &["owner", "cost-center"]).want(Allow),
        case("ForAnyValue with none matching", u()).id(when(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment"]}}"#)).ctx("aws:TagKeys", &["owner"]).want(Implicit(Id)),
        case("ForAnyValue on a missing key is false", u()).id(when(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment"]}}"#)).want(Implicit(Id)),
        case("ForAnyValue:StringNotEquals, one value differs", u()).id(when(r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["environment"]}}"#)).ctx("aws:TagKeys", &["environment", "owner"]).want(Allow),
        case("ForAllValues:StringLike", u()).id(when(r#"{"ForAllValues:StringLike":{"aws:TagKeys":["key*"]}}"#)).ctx("aws:TagKeys", &["key1", "key2"]).want(Allow),
        case("ForAllValues:StringNotEquals deny with a forbidden key", u()).id(when("{}")).id(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["secret"]}}}]}"#).ctx("aws:TagKeys", &["a", "secret"]).want(Explicit(Id)),
        case("multivalued key without qualifier: any value matches", u()).id(when(r#"{"StringEquals":{"aws:TagKeys":"b"}}"#)).ctx("aws:TagKeys", &["a", "b"]).want(Allow),
        case("unknown service key works like any other", u()).id(when(r#"{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}"#)).ctx("Lambda:FunctionUrlAuthType", &["AWS_IAM"]).want(Allow),
        case("condition value of an operator it cannot read matches nothing", u()).id(when(r#"{"IpAddress":{"aws:SourceIp":"not-an-ip"}}"#)).ctx(IP, &["192.0.2.1"]).want(Implicit(Id)),
    ];
    assert!(run(cases) >= 60);
}

#[test]
fn policy_variables() {
    let home = on(V12, "arn:aws:s3:::bucket/home/${aws:username}/*");
    let cases = vec![
        case("${aws:username} in a resource: own folder", alice()).id(home).req("s3:GetObject", "arn:aws:s3:::bucket/home/alice/a.txt").want(Allow),
        case("${aws:username} in a resource: someone else's folder", alice()).id(home).req("s3:GetObject", "arn:aws:s3:::bucket/home/bob/a.txt").want(Implicit(Id)),
        case("${aws:username} is missing for a role session", session()).id(home).req("s3:GetObject", "arn:aws:s3:::bucket/home//a.txt").want(Implicit(Id)),
        case("Version 2008: variables are literal text", alice()).id(on("2008-10-17", "arn:aws:s3:::bucket/home/${aws:username}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/home/alice/a").want(Implicit(Id)),
        case("no Version: variables are literal text", alice()).id(on("", "arn:aws:s3:::bucket/home/${aws:username}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/home/${aws:username}/a").want(Allow),
        case("${aws:userid} of a session", session()).id(on(V12, "arn:aws:s3:::bucket/${aws:userid}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/AROAJQABLZS4A3QDU576Q:s1/x").want(Allow),
        case("${aws:PrincipalTag/team}", alice()).id(on(V12, "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/blue/x").want(Allow),
        case("a default for a missing tag", session()).id(on(V12, "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/company-wide/x").want(Allow),
        case("a default is not used when the tag exists", alice()).id(on(V12, "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/company-wide/x").want(Implicit(Id)),
        case("${*} is a literal star", alice()).id(on(V12, "arn:aws:s3:::bucket/${*}literal")).req("s3:GetObject", "arn:aws:s3:::bucket/*literal").want(Allow),
        case("${*} is not a wildcard", alice()).id(on(V12, "arn:aws:s3:::bucket/${*}literal")).req("s3:GetObject", "arn:aws:s3:::bucket/xliteral").want(Implicit(Id)),
        case("${?} and ${$} escapes", alice()).id(on(V12, "arn:aws:s3:::bucket/${?}${$}")).req("s3:GetObject", "arn:aws:s3:::bucket/?$").want(Allow),
        case("a variable's value is never a wildcard", session()).id(on(V12, "arn:aws:s3:::bucket/${aws:PrincipalTag/Department}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/E/x").want(Implicit(Id)),
        case("any context key as a variable", alice()).id(on(V12, "arn:aws:s3:::bucket/${aws:RequestedRegion}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/eu-west-1/x").ctx("aws:RequestedRegion", &["eu-west-1"]).want(Allow),
        case("cognito sub variable", alice()).id(on(V12, "arn:aws:s3:::bucket/cognito/${cognito-identity.amazonaws.com:sub}/*")).req("s3:GetObject", "arn:aws:s3:::bucket/cognito/us-east-1:abc/x").ctx("cognito-identity.amazonaws.com:sub", &["us-east-1:abc"]).want(Allow),
        case("variable in a condition value (ListBucket home prefix)", alice()).id(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}}]}"#).req("s3:ListBucket", "arn:aws:s3:::bucket").ctx("s3:prefix", &["home/alice/docs"]).want(Allow),
        case("variable in a condition value, other user's prefix", alice()).id(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}}]}"#).req("s3:ListBucket", "arn:aws:s3:::bucket").ctx("s3:prefix", &["home/bob/docs"]).want(Implicit(Id)),
        case("unresolvable variable in a condition: negated is true", session()).id(when(r#"{"StringNotEquals":{"s3:prefix":"${aws:username}"}}"#)).ctx("s3:prefix", &["x"]).want(Allow),
        case("variable in StringEquals with the principal's tag", alice()).id(when(r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#)).ctx("aws:ResourceTag/owner", &["alice"]).want(Allow),
        case("variable with spaces around the key", alice()).id(on(V12, "arn:aws:s3:::bucket/${ aws:username }/*")).req("s3:GetObject", "arn:aws:s3:::bucket/alice/x").want(Allow),
    ];
    assert!(run(cases) >= 20);
}
