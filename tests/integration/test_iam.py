"""The IAM API (query protocol) driven by boto3 and the aws CLI, with root credentials."""

import json

import botocore.exceptions
import pytest

from conftest import error_code, status, unique

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def doc(action="s3:GetObject", resource="*", effect="Allow", sid=None):
    stmt = {"Effect": effect, "Action": action, "Resource": resource}
    if sid:
        stmt["Sid"] = sid
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


def fails(code, fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*args, **kwargs)
    assert error_code(e) == code, e.value.response["Error"]
    return e


def test_user_lifecycle_with_tags(iam):
    name = unique("user")
    u = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "team", "Value": "a b"}])["User"]
    assert u["UserName"] == name
    assert u["Path"] == "/team/"
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    assert u["Arn"] == f"arn:aws:iam::000000000000:user/team/{name}"
    assert u["Tags"] == [{"Key": "team", "Value": "a b"}]
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == u["UserId"] and got["CreateDate"] == u["CreateDate"]
    fails("EntityAlreadyExists", iam.create_user, UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "env", "Value": "dev"}])
    tags = iam.list_user_tags(UserName=name)["Tags"]
    assert sorted(t["Key"] for t in tags) == ["env", "team"]
    iam.untag_user(UserName=name, TagKeys=["team"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "env", "Value": "dev"}]
    iam.update_user(UserName=name, NewUserName=name + "-2", NewPath="/ops/")
    moved = iam.get_user(UserName=name + "-2")["User"]
    assert moved["Arn"].endswith(f":user/ops/{name}-2")
    e = fails("NoSuchEntity", iam.get_user, UserName=name)
    assert e.value.response["Error"]["Message"] == f"The user with name {name} cannot be found."
    assert status(e) == 404
    assert e.value.response["Error"]["Type"] == "Sender"
    iam.delete_user(UserName=name + "-2")
    fails("NoSuchEntity", iam.delete_user, UserName=name + "-2")


def test_user_validation(iam):
    fails("ValidationError", iam.create_user, UserName="bad name")
    fails("ValidationError", iam.create_user, UserName="x" * 65)
    fails("ValidationError", iam.create_user, UserName=unique("u"), Path="no-slash")


def test_get_user_as_root(iam):
    u = iam.get_user()["User"]
    assert u["Arn"] == "arn:aws:iam::000000000000:root"
    assert u["UserId"] == "000000000000"


def test_list_users_pages(iam):
    prefix = "/" + unique("page") + "/"
    names = sorted(unique("pu") for _ in range(5))
    for n in names:
        iam.create_user(UserName=n, Path=prefix)
    first = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    pages = iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 2}
    )
    seen = [u["UserName"] for p in pages for u in p["Users"]]
    assert seen == names
    for n in names:
        iam.delete_user(UserName=n)


def test_access_keys(iam):
    name = unique("keys")
    iam.create_user(UserName=name)
    k1 = iam.create_access_key(UserName=name)["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["AccessKeyId"]) == 20
    assert len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
    k2 = iam.create_access_key(UserName=name)["AccessKey"]
    e = fails("LimitExceeded", iam.create_access_key, UserName=name)
    assert e.value.response["Error"]["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([k1["AccessKeyId"], k2["AccessKeyId"]])
    assert all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert statuses[k1["AccessKeyId"]] == "Inactive"
    used = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
    assert used["UserName"] == name
    assert used["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    e = fails("DeleteConflict", iam.delete_user, UserName=name)
    assert e.value.response["Error"]["Message"] == "Cannot delete entity, must delete access keys first."
    assert status(e) == 409
    iam.delete_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"])
    iam.delete_access_key(UserName=name, AccessKeyId=k2["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_new_users_keys_do_not_sign_yet(server, iam):
    # Until authorization is enforced, a user's key would have full access: refused.
    name = unique("nosign")
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    other = server.client(
        "iam", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"]
    )
    e = fails("InvalidClientTokenId", other.list_users)
    assert status(e) == 403
    iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_any_region_is_accepted(server):
    import boto3

    key, secret = server.credentials()
    eu = boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name="eu-west-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    assert "Users" in eu.list_users()


def test_unknown_action(server, iam):
    import urllib.request

    req = urllib.request.Request(server.endpoint + "/", data=b"Action=ListUsers", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    # Unsigned: not IAM's, and never served.
    assert e.value.code in (400, 403)


def test_cli_list_users(server, iam):
    name = unique("cli")
    iam.create_user(UserName=name)
    out = server.aws("iam", "list-users")
    assert name in [u["UserName"] for u in json.loads(out.stdout)["Users"]]
    out = server.aws("iam", "get-user", "--user-name", name)
    assert json.loads(out.stdout)["User"]["UserName"] == name
    iam.delete_user(UserName=name)
