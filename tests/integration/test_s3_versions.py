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


def versioned(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def test_a_versioned_bucket_keeps_every_version_and_reads_each_by_id(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    versioned(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and "null" not in (v1, v2)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", v2)
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["ContentLength"] == 3
    listed = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in listed] == [
        (v2, True), (v1, False), ("null", False)]

    # A delete hides the key behind a marker; every version stays readable by id.
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert status(e) == 405
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    listing = s3.list_object_versions(Bucket=bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [(marker, True)]
    assert all(not v["IsLatest"] for v in listing["Versions"])
    # Removing the marker brings the key back; removing the newest version, the one before.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert error_code(e) == "NoSuchVersion"
    # A bucket with versions left is not empty.
    for v in (v1, "null"):
        s3.delete_object(Bucket=bucket, Key="k", VersionId=v)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_copies_and_multipart_uploads_make_versions_and_a_version_can_be_restored(s3, bucket):
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"second")
    copied = s3.copy_object(Bucket=bucket, Key="dst",
                            CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1 and copied["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    # Copying an old version onto its own key restores it as the newest.
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src",
                                                         "VersionId": v1})
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"first"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=1, Body=b"part")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="m", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["VersionId"] == s3.head_object(Bucket=bucket, Key="m")["VersionId"]
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="src")["Versions"]) == 3
    empty_versions(s3, bucket)


def test_a_suspended_bucket_writes_null_versions_and_keeps_the_others(s3, bucket):
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    versioned(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"n1")["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="k", Body=b"n2")
    listed = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in listed] == ["null", v1]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"n2"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Off"})
    assert error_code(e) == "MalformedXML"
    empty_versions(s3, bucket)


def empty_versions(s3, bucket):
    listing = s3.list_object_versions(Bucket=bucket)
    targets = [{"Key": v["Key"], "VersionId": v["VersionId"]}
               for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    if targets:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": targets})


def test_boto3_empties_a_versioned_bucket_with_markers(server, s3):
    name = f"versions-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    versioned(s3, name)
    for i in range(3):
        s3.put_object(Bucket=name, Key=f"k{i % 2}", Body=b"x")
    s3.delete_object(Bucket=name, Key="k0")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e) == "BucketNotEmpty"
    key, secret = server.credentials()
    resource = boto3.resource("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret)
    b = resource.Bucket(name)
    assert len(list(b.object_versions.all())) == 4
    b.object_versions.delete()
    assert list(b.object_versions.all()) == []
    b.delete()


def test_delete_objects_with_versions_answers_each(s3, bucket):
    versioned(s3, bucket)
    v = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"1")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in r["Deleted"]}
    assert by_key["a"]["VersionId"] == v and "DeleteMarker" not in by_key["a"]
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]
    empty_versions(s3, bucket)


def test_notifications_carry_the_version_and_name_delete_markers(server, s3, bucket):
    from test_async import RECORDER, create, records, wait_for
    from test_s3_notifications import allow_s3, configure

    lam = server.client("lambda")
    name = f"versions-recorder-{uuid.uuid4().hex[:8]}"
    arn = create(lam, name, RECORDER)
    try:
        allow_s3(lam, arn, bucket)
        configure(s3, bucket, arn, prefix="", suffix="")
        versioned(s3, bucket)
        v = s3.put_object(Bucket=bucket, Key="n", Body=b"1")["VersionId"]
        marker = s3.delete_object(Bucket=bucket, Key="n")["VersionId"]
        s3.delete_object(Bucket=bucket, Key="n", VersionId=v)
        wait_for(lambda: len(records(server, name)) >= 3)
        recs = sorted((r["Records"][0] for r in records(server, name)),
                      key=lambda r: r["s3"]["object"]["sequencer"])
        assert [(r["eventName"], r["s3"]["object"].get("versionId")) for r in recs] == [
            ("ObjectCreated:Put", v),
            ("ObjectRemoved:DeleteMarkerCreated", marker),
            ("ObjectRemoved:Delete", v),
        ]
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        empty_versions(s3, bucket)
        lam.delete_function(FunctionName=name)
