"""Bucket policies and Block Public Access with boto3 and the aws CLI: Put/Get/Delete-
BucketPolicy (the document returned as sent), S3's MalformedPolicy checks, GetBucketPolicyStatus,
Put/Get/DeletePublicAccessBlock (all on for a new bucket), BlockPublicPolicy refusing a public
policy, and both kept across a restart and removed with their bucket. Compared with AWS's
recorded answers in tests/data/aws-recorded/s3_test_s3_api.snapshot.json.
"""

import json
import os
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status

OTHER_ACCOUNT = "111122223333"
OFF = {
    "BlockPublicAcls": False,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}
ALL_ON = {k: True for k in OFF}


def recorded(case):
    path = os.path.join(
        os.path.dirname(__file__), "..", "data", "aws-recorded", "s3_test_s3_api.snapshot.json"
    )
    with open(path) as f:
        cases = json.load(f)
    return next(v for k, v in cases.items() if k.endswith(case))["recorded-content"]


def grant(bucket, principal=None, **extra):
    statement = {
        "Sid": "OtherAccountReads",
        "Effect": "Allow",
        "Principal": principal or {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    statement.update(extra)
    return {"Version": "2012-10-17", "Statement": [statement]}


@pytest.fixture(scope="module")
def s3(server):
    return server.client("s3")


@pytest.fixture
def bucket(s3):
    name = f"policy-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket(Bucket=name)


def error(excinfo):
    e = excinfo.value.response
    return {"Code": e["Error"]["Code"], "Message": e["Error"]["Message"], "Status": status(excinfo)}


def recorded_error(step):
    e = step["Error"]
    return {"Code": e["Code"], "Message": e["Message"], "Status": step["ResponseMetadata"]["HTTPStatusCode"]}


def test_policy_put_get_delete_as_aws_answers(s3, bucket):
    rec = recorded("test_bucket_policy_crud")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert error(e) == recorded_error(rec["get-bucket-default-policy"])

    # Sent with odd spacing and key order: AWS returns the text as it was put.
    text = json.dumps(grant(bucket), indent=3, sort_keys=True)
    resp = s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == rec["put-bucket-policy"]["ResponseMetadata"]["HTTPStatusCode"]
    got = s3.get_bucket_policy(Bucket=bucket)
    assert got["Policy"] == text
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(json.loads(got["Policy"])) == set(rec["get-bucket-policy"]["Policy"])

    resp = s3.delete_bucket_policy(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == rec["delete-bucket-policy"]["ResponseMetadata"]["HTTPStatusCode"]
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert error(e) == recorded_error(rec["get-bucket-policy-after-delete"])
    assert error(e) == {"Code": "NoSuchBucketPolicy", "Message": "The bucket policy does not exist", "Status": 404}
    resp = s3.delete_bucket_policy(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_malformed_policies(s3, bucket):
    rec = recorded("test_bucket_policy_exc")
    for policy, step in [("", "put-empty-bucket-policy"), ("randomstring", "put-bucket-policy-randomstring"),
                         ("{}", "put-bucket-policy-empty-json")]:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        assert error(e) == recorded_error(rec[step]), policy

    def refused(doc):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=doc if isinstance(doc, str) else json.dumps(doc))
        assert error_code(e) == "MalformedPolicy"
        assert status(e) == 400
        return e.value.response["Error"]["Message"]

    other = grant(bucket)
    other["Statement"][0]["Resource"] = "arn:aws:s3:::some-other-bucket/*"
    assert refused(other) == "Policy has invalid resource"
    action = grant(bucket)
    action["Statement"][0]["Action"] = "ec2:RunInstances"
    assert refused(action) == "Policy has invalid action"
    no_principal = grant(bucket)
    del no_principal["Statement"][0]["Principal"]
    assert refused(no_principal) == "Missing required field Principal"
    assert refused('{"Version": "2012-10-17", "Statement": [') == (
        "Policies must be valid JSON and the first byte must be '{'"
    )
    # The first byte, as AWS says: a document after a newline is refused.
    assert refused("\n" + json.dumps(grant(bucket))) == (
        "Policies must be valid JSON and the first byte must be '{'"
    )
    no_resource = grant(bucket)
    del no_resource["Statement"][0]["Resource"]
    assert refused(no_resource) == "Missing required field Resource"
    assert refused("{" * 5000) == "Policies must be valid JSON and the first byte must be '{'"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_code(e) == "NoSuchBucketPolicy"


def test_oversized_and_binary_policies_are_refused_not_failed(server, s3, bucket):
    big = grant(bucket)
    big["Statement"][0]["Sid"] = "x" * (2 * 1024 * 1024)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(big))
    assert status(e) == 400
    assert error_code(e) == "MalformedPolicy"
    # A body that is not UTF-8, signed as sent.
    raw = server.client("s3")

    def binary(request, **_):
        request.data = b"{\xff\xfe}"
        for h in ("Content-MD5", "x-amz-checksum-crc32"):
            if h in request.headers:
                del request.headers[h]

    raw.meta.events.register("before-sign.s3.PutBucketPolicy", binary)
    with pytest.raises(ClientError) as e:
        raw.put_bucket_policy(Bucket=bucket, Policy="{}")
    assert 400 <= status(e) < 500


def test_no_such_bucket(s3):
    name = f"policy-missing-{uuid.uuid4().hex[:8]}"
    for call in [lambda: s3.get_bucket_policy(Bucket=name),
                 lambda: s3.put_bucket_policy(Bucket=name, Policy=json.dumps(grant(name))),
                 lambda: s3.delete_bucket_policy(Bucket=name),
                 lambda: s3.get_public_access_block(Bucket=name)]:
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "NoSuchBucket"
        assert status(e) == 404


def test_public_access_block_as_aws_answers(s3, bucket):
    rec = recorded("test_crud_public_access_block")
    got = s3.get_public_access_block(Bucket=bucket)
    assert got["PublicAccessBlockConfiguration"] == rec["get-default-public-access-block"]["PublicAccessBlockConfiguration"]
    assert got["PublicAccessBlockConfiguration"] == ALL_ON
    resp = s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OFF)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == rec["put-public-access-block"]["ResponseMetadata"]["HTTPStatusCode"]
    got = s3.get_public_access_block(Bucket=bucket)
    assert got["PublicAccessBlockConfiguration"] == rec["get-public-access-block"]["PublicAccessBlockConfiguration"]
    resp = s3.delete_public_access_block(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == rec["delete-public-access-block"]["ResponseMetadata"]["HTTPStatusCode"]
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert error(e) == recorded_error(rec["get-public-access-block-after-delete"])
    resp = s3.delete_public_access_block(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == rec["idempotent-delete-public-access-block"]["ResponseMetadata"]["HTTPStatusCode"]


def test_block_public_policy_and_policy_status(s3, bucket):
    public = json.dumps(grant(bucket, principal="*"))
    # A new bucket blocks public policies.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert error_code(e) == "AccessDenied"
    assert status(e) == 403
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert error_code(e) == "NoSuchBucketPolicy"

    # A `*` principal pinned to one account is not public, so it passes the block.
    pinned = grant(bucket, principal={"AWS": "*"},
                   Condition={"StringEquals": {"aws:SourceAccount": OTHER_ACCOUNT}})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(pinned))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(grant(bucket)))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": True}
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == public
    # Turning the block back on keeps the policy there, as on AWS; only new ones are refused.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_ON)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(grant(bucket, principal={"AWS": "*"})))
    assert error_code(e) == "AccessDenied"
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == public
    s3.delete_bucket_policy(Bucket=bucket)


def test_policy_and_block_go_with_the_bucket(s3):
    name = f"policy-gone-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(grant(name)))
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OFF)
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        with pytest.raises(ClientError) as e:
            s3.get_bucket_policy(Bucket=name)
        assert error_code(e) == "NoSuchBucketPolicy"
        assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == ALL_ON
    finally:
        s3.delete_bucket(Bucket=name)


def test_policy_and_block_survive_a_restart(fresh_server):
    s = fresh_server()
    client = s.client("s3")
    name = f"policy-kept-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=name)
    text = json.dumps(grant(name))
    client.put_bucket_policy(Bucket=name, Policy=text)
    client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={**OFF, "IgnorePublicAcls": True})
    s.stop()
    s.start()
    client = s.client("s3")
    assert client.get_bucket_policy(Bucket=name)["Policy"] == text
    assert client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
        **OFF, "IgnorePublicAcls": True}


def test_aws_cli_put_bucket_policy(server, s3, bucket):
    text = json.dumps(grant(bucket))
    server.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", text)
    out = server.aws("s3api", "get-bucket-policy", "--bucket", bucket)
    assert json.loads(out.stdout)["Policy"] == text
    bad = server.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", "nope", check=False)
    assert bad.returncode != 0
    assert b"MalformedPolicy" in bad.stderr
    s3.delete_bucket_policy(Bucket=bucket)
