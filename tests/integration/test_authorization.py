"""Authorization at the edge: IAM users' keys sign requests, and every operation of Lambda,
Logs, IAM, STS and S3 is allowed or denied by the caller's policies before it runs, with
each protocol's AccessDenied error and AWS's message."""

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, invoke, status, unique

ACCOUNT = "000000000000"
REGION = "us-east-1"

ECHO = """
def handler(event, context):
    return {"ok": True}
"""


def fn_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def user_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


@pytest.fixture
def user(server, iam):
    """Creates a user with an access key and inline policies; returns (name, key, clients)."""
    made = []

    def create(*policies):
        name = unique("user")
        iam.create_user(UserName=name)
        for i, doc in enumerate(policies):
            iam.put_user_policy(UserName=name, PolicyName=f"p{i}", PolicyDocument=doc)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        made.append((name, key["AccessKeyId"], len(policies)))

        def client(service):
            return server.client(
                service,
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
            )

        return name, key, client

    yield create
    for name, key_id, n in made:
        for call in (
            lambda: iam.delete_access_key(UserName=name, AccessKeyId=key_id),
            *[lambda i=i: iam.delete_user_policy(UserName=name, PolicyName=f"p{i}") for i in range(n)],
            lambda: iam.delete_user(UserName=name),
        ):
            try:
                call()
            except ClientError:
                pass


def denied(excinfo, code, message):
    assert error_code(excinfo) == code, excinfo.value.response
    assert excinfo.value.response["Error"]["Message"] == message


def test_a_user_invokes_what_its_policy_names_and_nothing_else(lam, function, user):
    allowed, other = function({"app.py": ECHO}), function({"app.py": ECHO})
    name, _, client = user(document(allow("lambda:InvokeFunction", fn_arn(allowed))))
    ulam = client("lambda")
    _, body = invoke(ulam, allowed)
    assert body == {"ok": True}
    with pytest.raises(ClientError) as e:
        invoke(ulam, other)
    assert status(e) == 403
    denied(
        e,
        "AccessDeniedException",
        f"User: {user_arn(name)} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{fn_arn(other)} because no identity-based policy allows the lambda:InvokeFunction action",
    )
    # A qualified invoke is authorized on the qualified ARN, which `function:NAME` does not cover.
    with pytest.raises(ClientError) as e:
        invoke(ulam, allowed, Qualifier="$LATEST")
    assert error_code(e) == "AccessDeniedException"
    assert f"{fn_arn(allowed)}:$LATEST" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ulam.create_function(
            FunctionName=unique(),
            Runtime="python3.12",
            Handler="app.handler",
            Role=f"arn:aws:iam::{ACCOUNT}:role/x",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
    assert error_code(e) == "AccessDeniedException"
    assert "lambda:CreateFunction" in e.value.response["Error"]["Message"]


def test_a_wildcard_qualifier_allows_qualified_invokes(lam, function, user):
    fn = function({"app.py": ECHO})
    _, _, client = user(
        document(allow("lambda:InvokeFunction", [fn_arn(fn), f"{fn_arn(fn)}:*"]))
    )
    _, body = invoke(client("lambda"), fn, Qualifier="$LATEST")
    assert body == {"ok": True}


def test_explicit_deny_beats_allow_and_a_denied_call_changes_nothing(lam, function, user):
    fn = function({"app.py": ECHO})
    name, _, client = user(
        document(allow("lambda:*"), deny("lambda:DeleteFunction", fn_arn(fn)))
    )
    ulam = client("lambda")
    assert ulam.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn
    with pytest.raises(ClientError) as e:
        ulam.delete_function(FunctionName=fn)
    assert status(e) == 403
    denied(
        e,
        "AccessDeniedException",
        f"User: {user_arn(name)} is not authorized to perform: lambda:DeleteFunction on resource: "
        f"{fn_arn(fn)} with an explicit deny in an identity-based policy",
    )
    assert lam.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn


def test_a_user_without_policies_is_denied_everything(server, user):
    name, _, client = user()
    with pytest.raises(ClientError) as e:
        client("lambda").list_functions()
    denied(
        e,
        "AccessDeniedException",
        f"User: {user_arn(name)} is not authorized to perform: lambda:ListFunctions "
        "because no identity-based policy allows the lambda:ListFunctions action",
    )
    with pytest.raises(ClientError) as e:
        client("logs").describe_log_groups()
    assert error_code(e) == "AccessDeniedException"
    assert "logs:DescribeLogGroups" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        client("iam").list_users()
    assert error_code(e) == "AccessDenied" and status(e) == 403
    assert e.value.response["Error"]["Message"].startswith(
        f"User: {user_arn(name)} is not authorized to perform: iam:ListUsers"
    )
    with pytest.raises(ClientError) as e:
        client("iam").create_user(UserName=unique("nope"))
    assert error_code(e) == "AccessDenied"
    # AWS never denies GetCallerIdentity, nor GetSessionToken, whose session is the user.
    assert client("sts").get_caller_identity()["Arn"] == user_arn(name)
    creds = client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    temp = session_client(server, creds, "lambda")
    with pytest.raises(ClientError) as e:
        temp.list_functions()
    assert e.value.response["Error"]["Message"].startswith(f"User: {user_arn(name)} ")


def test_policies_apply_to_logs_and_iam(user):
    group = f"/authz/{unique('g')}"
    name, _, client = user(
        document(
            allow("logs:*", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}*"),
            allow("iam:GetUser", user_arn("*")),
        )
    )
    logs = client("logs")
    logs.create_log_group(logGroupName=group)
    logs.delete_log_group(logGroupName=group)
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="/elsewhere/" + unique("g"))
    assert error_code(e) == "AccessDeniedException"
    assert client("iam").get_user()["User"]["UserName"] == name
    with pytest.raises(ClientError) as e:
        client("iam").list_users()
    assert error_code(e) == "AccessDenied"


def test_inactive_and_deleted_keys_are_refused_at_once(iam, user):
    name, key, client = user(document(allow("lambda:ListFunctions")))
    sts, ulam = client("sts"), client("lambda")
    assert sts.get_caller_identity()["Arn"] == user_arn(name)
    ulam.list_functions()
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        ulam.list_functions()
    assert error_code(e) == "UnrecognizedClientException"
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    ulam.list_functions()
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user_policy(UserName=name, PolicyName="p0")
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as e:
        ulam.list_functions()
    assert error_code(e) == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"


def make_role(iam, trust_principal, *policies):
    name = unique("role")
    trust = document(
        {"Effect": "Allow", "Principal": trust_principal, "Action": "sts:AssumeRole"}
    )
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    for i, doc in enumerate(policies):
        iam.put_role_policy(RoleName=name, PolicyName=f"p{i}", PolicyDocument=doc)
    return name, arn


def session_client(server, creds, service):
    return server.client(
        service,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_an_assumed_role_gives_exactly_its_policies(server, iam, lam, function):
    fn, other = function({"app.py": ECHO}), function({"app.py": ECHO})
    role, role_arn = make_role(
        iam,
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        document(allow("lambda:InvokeFunction", fn_arn(fn))),
    )
    creds = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")[
        "Credentials"
    ]
    slam = session_client(server, creds, "lambda")
    _, body = invoke(slam, fn)
    assert body == {"ok": True}
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s1"
    with pytest.raises(ClientError) as e:
        invoke(slam, other)
    denied(
        e,
        "AccessDeniedException",
        f"User: {session_arn} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{fn_arn(other)} because no identity-based policy allows the lambda:InvokeFunction action",
    )
    with pytest.raises(ClientError) as e:
        slam.list_functions()
    assert error_code(e) == "AccessDeniedException"
    assert session_client(server, creds, "sts").get_caller_identity()["Arn"] == session_arn


def test_a_session_policy_narrows_the_role(server, iam, function):
    fn = function({"app.py": ECHO})
    _, role_arn = make_role(
        iam, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, document(allow("lambda:*"))
    )
    creds = server.client("sts").assume_role(
        RoleArn=role_arn,
        RoleSessionName="narrow",
        Policy=document(allow("lambda:InvokeFunction")),
    )["Credentials"]
    slam = session_client(server, creds, "lambda")
    invoke(slam, fn)
    with pytest.raises(ClientError) as e:
        slam.list_functions()
    assert e.value.response["Error"]["Message"].endswith(
        "because no session policy allows the lambda:ListFunctions action"
    )


def test_assume_role_needs_the_callers_policy_unless_the_trust_names_it(server, iam, user):
    name, _, client = user()
    # The trust policy names the account: the user's own policies must allow too.
    _, by_account = make_role(iam, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    with pytest.raises(ClientError) as e:
        client("sts").assume_role(RoleArn=by_account, RoleSessionName="xx")
    assert error_code(e) == "AccessDenied" and status(e) == 403
    assert e.value.response["Error"]["Message"] == (
        f"User: {user_arn(name)} is not authorized to perform: sts:AssumeRole "
        f"on resource: {by_account}"
    )
    # A trust policy naming the user is enough by itself.
    _, by_user = make_role(iam, {"AWS": user_arn(name)})
    client("sts").assume_role(RoleArn=by_user, RoleSessionName="xx")
    # And an identity policy allowing sts:AssumeRole makes the account's trust enough.
    iam.put_user_policy(
        UserName=name,
        PolicyName="p0",
        PolicyDocument=document(allow("sts:AssumeRole", by_account)),
    )
    client("sts").assume_role(RoleArn=by_account, RoleSessionName="xx")


LISTER = """
import boto3

def handler(event, context):
    try:
        n = len(boto3.client("lambda").list_functions()["Functions"])
        return {"listed": n}
    except Exception as e:
        return {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
"""


def test_a_function_with_a_role_in_iam_has_only_its_permissions(iam, lam, function):
    role, role_arn = make_role(
        iam,
        {"Service": "lambda.amazonaws.com"},
        document(allow("logs:*")),
    )
    fn = function({"app.py": LISTER}, Role=role_arn, Timeout=30)
    _, body = invoke(lam, fn)
    assert body == {
        "error": "AccessDeniedException",
        "message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{fn} is not authorized to "
        "perform: lambda:ListFunctions because no identity-based policy allows the "
        "lambda:ListFunctions action",
    }, body


def test_s3_denies_with_its_own_xml_access_denied(server, user):
    s3 = server.client("s3")
    bucket = unique("authz")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="open/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="k", Body=b"k")
    try:
        name, _, client = user(
            document(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/open/*"))
        )
        us3 = client("s3")
        assert us3.get_object(Bucket=bucket, Key="open/a")["Body"].read() == b"a"
        with pytest.raises(ClientError) as e:
            us3.get_object(Bucket=bucket, Key="k")
        assert status(e) == 403
        denied(
            e,
            "AccessDenied",
            f'User: {user_arn(name)} is not authorized to perform: s3:GetObject on resource: '
            f'"arn:aws:s3:::{bucket}/k" because no identity-based policy allows the '
            "s3:GetObject action",
        )
        with pytest.raises(ClientError) as e:
            us3.delete_object(Bucket=bucket, Key="open/a")
        assert error_code(e) == "AccessDenied"
        assert s3.get_object(Bucket=bucket, Key="open/a")["Body"].read() == b"a"
    finally:
        for key in ("open/a", "k"):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)


def test_lambents_own_endpoints_take_the_root_key(server, user):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    _, key, _ = user(document(allow("*")))
    req = AWSRequest(method="GET", url=server.endpoint + "/_lambent/usage")
    SigV4Auth(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "lambda", REGION
    ).add_auth(req)
    r = urllib.request.Request(req.url, headers=dict(req.headers))
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(r, timeout=10)
    assert e.value.code == 403
    assert e.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"
