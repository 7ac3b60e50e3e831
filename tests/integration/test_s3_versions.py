"""Object versions as tools meet them: ListObjectVersions, GetBucketVersioning and the `null`
version of a bucket that never had versioning, so tools that empty a bucket through its
version listing (boto3's `object_versions.delete()`) work."""

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import error_code, status
from test_s3 import s3_client


@pytest.fixture(scope="module")
def s3(server):
    return s3_client(server)


@pytest.fixture
def bucket(s3):
    name = f"versions-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
    s3.delete_bucket(Bucket=name)


def test_an_unversioned_bucket_lists_each_object_as_its_null_version(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    empty = s3.list_object_versions(Bucket=bucket)
    assert (empty["KeyMarker"], empty["VersionIdMarker"], empty["IsTruncated"]) == ("", "", False)
    assert "Versions" not in empty
    etags = {}
    for key in ("a/1", "a/2", "b", "c d"):
        etags[key] = s3.put_object(Bucket=bucket, Key=key, Body=key.encode())["ETag"]
    listed = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"], v["ETag"], v["Size"])
            for v in listed["Versions"]] == [
        (k, "null", True, etags[k], len(k)) for k in ("a/1", "a/2", "b", "c d")]
    assert listed["Versions"][0]["StorageClass"] == "STANDARD"
    assert listed["Versions"][0]["Owner"]["ID"]
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/", Prefix="")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/"]
    assert [v["Key"] for v in rolled["Versions"]] == ["b", "c d"]
    # Two at a time, resumed at the markers.
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "a/2"
    assert page["NextVersionIdMarker"] == "null"
    rest = s3.list_object_versions(Bucket=bucket, MaxKeys=2, KeyMarker=page["NextKeyMarker"],
                                   VersionIdMarker=page["NextVersionIdMarker"])
    assert [v["Key"] for v in rest["Versions"]] == ["b", "c d"]
    assert not rest["IsTruncated"]


def test_the_null_version_is_read_and_deleted_by_its_id(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    got = s3.get_object(Bucket=bucket, Key="k", VersionId="null")
    assert got["Body"].read() == b"v" and got["VersionId"] == "null"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId="null")["VersionId"] == "null"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
    assert error_code(e) == "InvalidArgument" and status(e) == 400
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId="null")["VersionId"] == "null"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert status(e) == 404


def test_boto3_empties_an_unversioned_bucket_through_its_versions(server, bucket):
    key, secret = server.credentials()
    resource = boto3.resource("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret)
    b = resource.Bucket(bucket)
    for i in range(5):
        b.put_object(Key=f"obj-{i}", Body=b"x")
    b.object_versions.delete()
    assert list(b.objects.all()) == []


def test_delete_objects_by_version_reports_versions_that_cannot_exist(s3, bucket):
    for key in ("x", "y"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "x", "VersionId": "null"},
        {"Key": "y", "VersionId": "no-such-version"},
    ]})
    assert r["Deleted"] == [{"Key": "x", "VersionId": "null"}]
    assert r["Errors"][0]["Key"] == "y" and r["Errors"][0]["Code"] == "NoSuchVersion"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["y"]


def test_the_aws_cli_lists_versions(server, bucket, s3):
    s3.put_object(Bucket=bucket, Key="cli", Body=b"1")
    out = json.loads(server.aws("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [(v["Key"], v["VersionId"]) for v in out["Versions"]] == [("cli", "null")]
