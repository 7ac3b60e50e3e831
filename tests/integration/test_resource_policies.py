"""Resource policies evaluated with identity policies, as AWS does: a Lambda function's
policy (AddPermission) and an S3 bucket policy grant callers with no identity policy of
their own; a bucket policy's Deny binds even the root (except the bucket-policy calls);
anonymous S3 requests pass exactly where a public bucket policy, not blocked, grants them;
creating a function needs iam:PassRole on its role; DeleteObjects authorizes every key."""

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, error_code, invoke, make_zip, status, unique
from test_authorization import ECHO, ACCOUNT, allow, document, fn_arn, iam, user, user_arn  # noqa: F401


def s3_for(server, client=None):
    """An S3 client: the root's, or a user's (`client` from the `user` fixture)."""
    return server.client("s3") if client is None else client("s3")


@pytest.fixture
def bucket(server):
    s3 = s3_for(server)
    name = unique("rp")
    s3.create_bucket(Bucket=name)
    yield name
    for o in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=o["Key"])
    s3.delete_bucket(Bucket=name)


def bucket_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def anonymous_get(server, bucket, key):
    """A plain unsigned GET, as a browser sends it: (status, body)."""
    try:
        with urllib.request.urlopen(f"{server.endpoint}/{bucket}/{key}", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_add_permission_lets_a_user_with_no_policy_invoke_that_function_only(lam, function, user):
    granted, other = function({"app.py": ECHO}), function({"app.py": ECHO})
    name, _, client = user()
    ulam = client("lambda")
    with pytest.raises(ClientError) as e:
        invoke(ulam, granted)
    assert error_code(e) == "AccessDeniedException"
    lam.add_permission(FunctionName=granted, StatementId="let-user", Action="lambda:InvokeFunction",
                       Principal=user_arn(name))
    _, body = invoke(ulam, granted)
    assert body == {"ok": True}
    with pytest.raises(ClientError) as e:
        invoke(ulam, other)
    assert e.value.response["Error"]["Message"] == (
        f"User: {user_arn(name)} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{fn_arn(other)} because no identity-based policy allows the lambda:InvokeFunction action")
    # The statement grants invoking, nothing else on the function.
    with pytest.raises(ClientError) as e:
        ulam.get_function(FunctionName=granted)
    assert error_code(e) == "AccessDeniedException"
    # Removed, it grants nothing from the next request on.
    lam.remove_permission(FunctionName=granted, StatementId="let-user")
    with pytest.raises(ClientError) as e:
        invoke(ulam, granted)
    assert status(e) == 403


def test_creating_a_function_needs_pass_role_and_a_denial_creates_nothing(lam, user):
    name, _, client = user(document(allow("lambda:CreateFunction"), allow("lambda:GetFunction")))
    ulam = client("lambda")
    fn = unique()
    args = dict(FunctionName=fn, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                Code={"ZipFile": make_zip({"app.py": ECHO})})
    with pytest.raises(ClientError) as e:
        ulam.create_function(**args)
    assert status(e) == 403
    assert e.value.response["Error"]["Message"] == (
        f"User: {user_arn(name)} is not authorized to perform: iam:PassRole on resource: {ROLE} "
        "because no identity-based policy allows the iam:PassRole action")
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=fn)
    assert error_code(e) == "ResourceNotFoundException"

    # PassRole allowed only when the role goes to Lambda, as AWS's examples write it.
    _, _, client = user(document(
        allow("lambda:CreateFunction"),
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE,
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
    ))
    client("lambda").create_function(**args)
    try:
        assert lam.get_function(FunctionName=fn)["Configuration"]["Role"] == ROLE
    finally:
        lam.delete_function(FunctionName=fn)


def test_a_bucket_policy_grants_another_user_read(server, bucket, user):
    root = s3_for(server)
    root.put_object(Bucket=bucket, Key="shared/a.txt", Body=b"shared")
    name, _, client = user()
    s3 = s3_for(server, client)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="shared/a.txt")
    assert (error_code(e), status(e)) == ("AccessDenied", 403)
    root.put_bucket_policy(Bucket=bucket, Policy=bucket_policy({
        "Sid": "ReadShared", "Effect": "Allow", "Principal": {"AWS": user_arn(name)},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/shared/*"}))
    assert s3.get_object(Bucket=bucket, Key="shared/a.txt")["Body"].read() == b"shared"
    # Read only, and only under shared/.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="shared/b.txt", Body=b"no")
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert error_code(e) == "AccessDenied"
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["shared/a.txt"]
    root.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="shared/a.txt")
    assert error_code(e) == "AccessDenied"


def test_a_bucket_policy_deny_binds_the_root_except_for_the_policy_calls(server, bucket):
    root = s3_for(server)
    root.put_object(Bucket=bucket, Key="k", Body=b"v")
    root.put_bucket_policy(Bucket=bucket, Policy=bucket_policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}))
    with pytest.raises(ClientError) as e:
        root.get_object(Bucket=bucket, Key="k")
    assert (error_code(e), status(e)) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        root.delete_object(Bucket=bucket, Key="k")
    assert error_code(e) == "AccessDenied"
    # The root may always read and remove the policy that locks it out.
    assert "Deny" in root.get_bucket_policy(Bucket=bucket)["Policy"]
    root.delete_bucket_policy(Bucket=bucket)
    assert root.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_anonymous_reads_pass_only_where_a_public_policy_is_not_blocked(server, bucket):
    root = s3_for(server)
    root.put_object(Bucket=bucket, Key="site/index.html", Body=b"<h1>hi</h1>")
    root.put_object(Bucket=bucket, Key="private/x", Body=b"secret")
    public = bucket_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{bucket}/site/*"})
    code, body = anonymous_get(server, bucket, "site/index.html")
    assert code == 403 and b"<Code>AccessDenied</Code>" in body
    # New buckets block public policies, as on AWS since 2023.
    with pytest.raises(ClientError) as e:
        root.put_bucket_policy(Bucket=bucket, Policy=public)
    assert error_code(e) == "AccessDenied"
    root.delete_public_access_block(Bucket=bucket)
    root.put_bucket_policy(Bucket=bucket, Policy=public)
    assert root.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    assert anonymous_get(server, bucket, "site/index.html") == (200, b"<h1>hi</h1>")
    code, body = anonymous_get(server, bucket, "private/x")
    assert code == 403 and b"<Code>AccessDenied</Code>" in body and b"secret" not in body
    # RestrictPublicBuckets: the stored public policy no longer lets anyone anonymous in.
    root.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    code, _ = anonymous_get(server, bucket, "site/index.html")
    assert code == 403
    # An anonymous write is denied whatever the policy says about reads.
    req = urllib.request.Request(f"{server.endpoint}/{bucket}/site/evil", data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403
    assert "site/evil" not in [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]]


def test_a_username_prefix_policy_confines_each_user_to_its_home(server, bucket, user):
    home = f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"
    policy = document(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}},
        allow(["s3:GetObject", "s3:PutObject"], home),
    )
    alice, _, alice_client = user(policy)
    bob, _, _ = user(policy)
    s3 = s3_for(server, alice_client)
    s3.put_object(Bucket=bucket, Key=f"home/{alice}/notes.txt", Body=b"mine")
    assert s3.get_object(Bucket=bucket, Key=f"home/{alice}/notes.txt")["Body"].read() == b"mine"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"home/{alice}/")
    assert [o["Key"] for o in listed["Contents"]] == [f"home/{alice}/notes.txt"]
    for call in (
        lambda: s3.put_object(Bucket=bucket, Key=f"home/{bob}/notes.txt", Body=b"theirs"),
        lambda: s3.list_objects_v2(Bucket=bucket, Prefix=f"home/{bob}/"),
        lambda: s3.list_objects_v2(Bucket=bucket),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "AccessDenied"
    keys = [o["Key"] for o in s3_for(server).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"home/{alice}/notes.txt"]


def test_delete_objects_authorizes_every_key(server, bucket, user):
    root = s3_for(server)
    for key in ("mine/a", "theirs/b"):
        root.put_object(Bucket=bucket, Key=key, Body=b"x")
    _, _, client = user(document(allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/mine/*")))
    out = s3_for(server, client).delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "mine/a"}, {"Key": "theirs/b"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["mine/a"]
    assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("theirs/b", "AccessDenied")]
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["theirs/b"]
