"""The S3 API end to end with boto3 and the aws CLI: buckets, objects (streamed aws-chunked
uploads, ranges, conditional reads, metadata, MD5 ETags), CopyObject, multipart uploads (the
CLI's and boto3's low-level calls, AWS's errors and multipart ETag), DeleteObjects,
ListObjectsV2 and ListObjects paging with a delimiter, presigned GET and PUT URLs, and SigV4
failures; and boto3 inside a function.

Traps and error codes: /work/shared/spec/s3-notes.md.
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import zlib

import boto3
import botocore.config
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
import pytest
from botocore.exceptions import ClientError

from conftest import error_code, invoke, status


def s3_client(server, **kwargs):
    key, secret = server.credentials()
    kwargs.setdefault("aws_access_key_id", key)
    kwargs.setdefault("aws_secret_access_key", secret)
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1},
        ),
        **kwargs,
    )


@pytest.fixture(scope="module")
def s3(server):
    return s3_client(server)


@pytest.fixture
def bucket(s3):
    name = f"lambent-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
    s3.delete_bucket(Bucket=name)


def test_bucket_lifecycle_and_errors(s3):
    name = f"lambent-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert error_code(e) == "BucketAlreadyOwnedByYou"
    assert status(e) == 409
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=name)
    assert error_code(e) == "NoSuchBucket"


def test_invalid_bucket_name(server):
    out = server.aws("s3api", "create-bucket", "--bucket", "Bad_Name", check=False)
    assert out.returncode != 0
    assert b"InvalidBucketName" in out.stderr


def test_put_get_head_with_metadata_and_md5_etag(s3, bucket):
    body = b"hello world"
    r = s3.put_object(
        Bucket=bucket,
        Key="dir/k y+z.txt",
        Body=body,
        ContentType="text/plain",
        Metadata={"Color": "blue", "x": "1"},
    )
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    assert r["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key="dir/k y+z.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == etag
    assert got["ContentType"] == "text/plain"
    assert got["ContentLength"] == len(body)
    assert got["Metadata"] == {"color": "blue", "x": "1"}
    head = s3.head_object(Bucket=bucket, Key="dir/k y+z.txt")
    assert head["ETag"] == etag
    assert head["ContentLength"] == len(body)
    assert head["Metadata"] == {"color": "blue", "x": "1"}
    # Overwrite replaces the whole object.
    s3.put_object(Bucket=bucket, Key="dir/k y+z.txt", Body=b"new")
    assert s3.get_object(Bucket=bucket, Key="dir/k y+z.txt")["Body"].read() == b"new"


def test_missing_objects(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    assert error_code(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nope")
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=f"missing-{uuid.uuid4().hex[:8]}", Key="k", Body=b"x")
    assert error_code(e) == "NoSuchBucket"
    # Deleting a missing key succeeds, as on AWS.
    s3.delete_object(Bucket=bucket, Key="nope")


def test_bad_content_md5(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert error_code(e) == "BadDigest"


def test_ranges(s3, bucket):
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    r = s3.get_object(Bucket=bucket, Key="r", Range="bytes=0-9")
    assert r["Body"].read() == body[:10]
    assert r["ContentRange"] == f"bytes 0-9/{len(body)}"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")["Body"].read() == body[1000:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1020-5000")["Body"].read() == body[1020:]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-")
    assert error_code(e) == "InvalidRange"


def test_conditional_reads(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=b"abc")
    etag = s3.head_object(Bucket=bucket, Key="c")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"abc"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123"')
    assert error_code(e) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status(e) == 304
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=lm)
    assert status(e) == 304
    import datetime

    earlier = lm - datetime.timedelta(hours=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"abc"


def test_delete_objects(s3, bucket):
    for k in ["a", "b", "c"]:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "zz"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]


def test_list_objects_v2_paging_with_delimiter(s3, bucket):
    keys = ["a.txt", "dir/1", "dir/2", "dir/sub/3", "e f+g.txt", "z/9"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a.txt", "e f+g.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/", "z/"]
    assert r["KeyCount"] == 4
    assert r["IsTruncated"] is False
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=1, **kw)
        pages += 1
        seen += [o["Key"] for o in r.get("Contents", [])]
        seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert seen == ["a.txt", "dir/", "e f+g.txt", "z/"]
    assert pages == 4
    r = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["dir/1", "dir/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub/"]
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="dir/2")
    assert [o["Key"] for o in r["Contents"]] == ["dir/sub/3", "e f+g.txt", "z/9"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="nothing/")
    assert r["KeyCount"] == 0 and "Contents" not in r


def test_cli_streamed_upload_of_20_mb(server, s3, bucket, tmp_path):
    # Over the CLI's 8 MB threshold: a multipart upload of 8 MB parts.
    data = os.urandom(20 * 1024 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    server.aws("s3", "cp", str(src), f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    dst = tmp_path / "back.bin"
    server.aws("s3", "cp", f"s3://{bucket}/big.bin", str(dst))
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    out = server.aws("s3api", "list-objects-v2", "--bucket", bucket)
    listed = json.loads(out.stdout)["Contents"]
    assert [o["Key"] for o in listed] == ["big.bin"]


def test_cli_multipart_upload_of_200_mb(server, s3, bucket, tmp_path):
    src = tmp_path / "huge.bin"
    digest = hashlib.sha256()
    chunk = os.urandom(1024 * 1024)
    with open(src, "wb") as f:
        for i in range(200):
            # Each megabyte differs, cheaply: a counter before random bytes.
            block = i.to_bytes(4, "big") + chunk[4:]
            digest.update(block)
            f.write(block)
    server.aws("s3", "cp", str(src), f"s3://{bucket}/huge.bin")
    head = s3.head_object(Bucket=bucket, Key="huge.bin")
    assert head["ContentLength"] == 200 * 1024 * 1024
    # The CLI's 8 MB parts: 25 of them.
    assert head["ETag"].endswith('-25"'), head["ETag"]
    dst = tmp_path / "huge-back.bin"
    server.aws("s3", "cp", f"s3://{bucket}/huge.bin", str(dst))
    back = hashlib.sha256()
    with open(dst, "rb") as f:
        while block := f.read(1024 * 1024):
            back.update(block)
    assert back.digest() == digest.digest()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_cli_small_copy_and_ls(server, bucket, tmp_path):
    src = tmp_path / "small.txt"
    src.write_text("hi there\n")
    server.aws("s3", "cp", str(src), f"s3://{bucket}/docs/small.txt")
    out = server.aws("s3", "ls", f"s3://{bucket}/docs/")
    assert b"small.txt" in out.stdout
    server.aws("s3", "rm", f"s3://{bucket}/docs/small.txt")
    out = server.aws("s3", "ls", f"s3://{bucket}/docs/", check=False)
    assert b"small.txt" not in out.stdout


def test_cli_mb_sync_ls_rm_rb(server, tmp_path):
    bucket = f"sync-{uuid.uuid4().hex[:8]}"
    server.aws("s3", "mb", f"s3://{bucket}")
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    files = {"index.html": b"<h1>hi</h1>", "css/main.css": b"body {}", "big.bin": os.urandom(3 << 20)}
    for name, data in files.items():
        (site / name).write_bytes(data)
    out = server.aws("s3", "sync", str(site), f"s3://{bucket}/site/")
    assert out.stdout.count(b"upload:") == 3
    listing = server.aws("s3", "ls", "--recursive", f"s3://{bucket}/").stdout
    for name in files:
        assert f"site/{name}".encode() in listing
    # Unchanged files are not sent again; a changed one is.
    time.sleep(1.1)  # sync compares sizes and modification times in whole seconds
    (site / "index.html").write_bytes(b"<h1>hello again</h1>")
    out = server.aws("s3", "sync", str(site), f"s3://{bucket}/site/")
    assert out.stdout.count(b"upload:") == 1 and b"index.html" in out.stdout
    back = tmp_path / "back"
    server.aws("s3", "sync", f"s3://{bucket}/site/", str(back))
    for name in files:
        assert (back / name).read_bytes() == (site / name).read_bytes()
    # --delete removes what is gone locally.
    (site / "css" / "main.css").unlink()
    out = server.aws("s3", "sync", "--delete", str(site), f"s3://{bucket}/site/")
    assert b"delete:" in out.stdout
    assert b"main.css" not in server.aws("s3", "ls", "--recursive", f"s3://{bucket}/").stdout
    out = server.aws("s3", "rb", f"s3://{bucket}", check=False)
    assert out.returncode != 0 and b"BucketNotEmpty" in out.stderr
    server.aws("s3", "rm", "--recursive", f"s3://{bucket}/site/")
    server.aws("s3", "rb", f"s3://{bucket}")
    out = server.aws("s3", "ls", f"s3://{bucket}", check=False)
    assert out.returncode != 0 and b"NoSuchBucket" in out.stderr


def test_presigned_get(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    assert "X-Amz-Credential" in url
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.read() == b"presigned body"
    with pytest.raises(urllib.error.HTTPError) as e:
        # The same length, one hex digit changed.
        tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
        urllib.request.urlopen(tampered, timeout=10)
    assert e.value.code == 403
    assert b"SignatureDoesNotMatch" in e.value.read()


def test_bad_signature_and_unknown_key(server, bucket):
    key, _ = server.credentials()
    wrong = s3_client(server, aws_access_key_id=key, aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as e:
        wrong.list_objects_v2(Bucket=bucket)
    assert error_code(e) == "SignatureDoesNotMatch"
    unknown = s3_client(server, aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as e:
        unknown.list_objects_v2(Bucket=bucket)
    assert error_code(e) == "InvalidAccessKeyId"
    # A long-term key presented with a session token it does not have.
    tokened = s3_client(server, aws_session_token="bogus")
    with pytest.raises(ClientError) as e:
        tokened.list_objects_v2(Bucket=bucket)
    assert status(e) == 403


def test_unsigned_request_is_refused(server, bucket):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{server.endpoint}/{bucket}/k", timeout=10)
    assert e.value.code == 403


FUNCTION = """
import json, os
def handler(event, context):
    import boto3
    s3 = boto3.client("s3")
    s3.put_object(Bucket=event["bucket"], Key="from-function.txt", Body=b"written by a function")
    return {"ok": True}
"""


def test_function_writes_with_its_own_credentials(server, s3, bucket, function, lam):
    # boto3 comes from the runtime's SDK (lambent's cache), as on AWS.
    name = function({"app.py": FUNCTION}, Timeout=30)
    _, body = invoke(lam, name, {"bucket": bucket})
    assert body == {"ok": True}
    got = s3.get_object(Bucket=bucket, Key="from-function.txt")
    assert got["Body"].read() == b"written by a function"


def test_copy_object_in_and_across_buckets(s3, bucket):
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"copied bytes", ContentType="text/plain", Metadata={"a": "1"}
    )
    etag = '"' + hashlib.md5(b"copied bytes").hexdigest() + '"'
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"copied bytes"
    # COPY (the default) keeps the source's metadata and ignores the request's.
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", Metadata={"b": "2"}
    )
    assert s3.head_object(Bucket=bucket, Key="dst2")["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket=bucket,
        Key="dst3",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="application/x-new",
    )
    head = s3.head_object(Bucket=bucket, Key="dst3")
    assert head["Metadata"] == {"b": "2"}
    assert head["ContentType"] == "application/x-new"
    # Onto itself: refused with COPY, allowed with REPLACE.
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert error_code(e) == "InvalidRequest"
    s3.copy_object(
        Bucket=bucket,
        Key="src",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"c": "3"},
    )
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"c": "3"}
    # Across buckets, with a key that needs encoding.
    other = f"lambent-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=other)
    try:
        s3.put_object(Bucket=bucket, Key="a b+c", Body=b"odd key")
        s3.copy_object(Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": "a b+c"})
        assert s3.get_object(Bucket=other, Key="x")["Body"].read() == b"odd key"
    finally:
        s3.delete_object(Bucket=other, Key="x")
        s3.delete_bucket(Bucket=other)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_code(e) == "NoSuchKey"


def test_copy_source_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"abc")
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="ok", CopySource=source, CopySourceIfMatch=etag)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="no", CopySource=source, CopySourceIfMatch='"0123"')
    assert error_code(e) == "PreconditionFailed"
    assert status(e) == 412
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="no", CopySource=source, CopySourceIfNoneMatch=etag)
    assert status(e) == 412
    assert "Contents" in s3.list_objects_v2(Bucket=bucket, Prefix="ok")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="no")


MIB = 1024 * 1024


def multipart_etag(parts):
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def test_multipart_low_level(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="application/x-mp")
    uid = up["UploadId"]
    one, two = os.urandom(5 * MIB), b"the last part may be small"
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=one)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=two)["ETag"]
    assert e1 == '"' + hashlib.md5(one).hexdigest() + '"'
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, e1, len(one)),
        (2, e2, len(two)),
    ]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp", uid)]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]},
        )
    assert error_code(e) == "InvalidPartOrder"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}, {"PartNumber": 2, "ETag": e2}]},
        )
    assert error_code(e) == "InvalidPart"
    r = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    assert r["ETag"] == multipart_etag([one, two])
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == one + two
    assert got["ETag"] == multipart_etag([one, two])
    assert got["ContentType"] == "application/x-mp"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"


def test_multipart_errors_and_abort(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=1, Body=b"tiny")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=2, Body=b"end")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="small", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
        )
    assert error_code(e) == "EntityTooSmall"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=10001, Body=b"x")
    assert error_code(e) == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=3, Body=b"x")
    assert error_code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="small", UploadId="no-such-upload",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]},
        )
    assert error_code(e) == "NoSuchUpload"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_an_error_to_a_client_waiting_for_100_continue_closes_the_connection(server, bucket):
    """botocore sends uploads with `Expect: 100-continue`; answered an error before `100
    Continue`, it may still send the body (after a second's wait, under load), and those bytes
    must never be read as the start of its next request on that connection (seen: an abort
    after a refused UploadPart failed SignatureDoesNotMatch, its method read as "xDELETE")."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(server.endpoint)
    day = time.strftime("%Y%m%d", time.gmtime())
    auth = (f"AWS4-HMAC-SHA256 Credential=AKIDNOTAKEY/{day}/us-east-1/s3/aws4_request, "
            f"SignedHeaders=host, Signature={'0' * 64}")
    head = (f"PUT /{bucket}/k?partNumber=1&uploadId=nope HTTP/1.1\r\nHost: {u.netloc}\r\n"
            f"Authorization: {auth}\r\nx-amz-date: {day}T000000Z\r\n"
            "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nContent-Length: 1\r\n"
            "Expect: 100-continue\r\n\r\n")
    with socket.create_connection((u.hostname, u.port), timeout=5) as c:
        c.sendall(head.encode())
        got = b""
        while b"</Error>" not in got:
            chunk = c.recv(65536)
            assert chunk, got
            got += chunk
        assert got.startswith(b"HTTP/1.1 403"), got
        assert b"connection: close" in got.lower(), got
        # The late body and a next request: the connection is closed, not read on.
        try:
            c.sendall(b"xGET /_lambent/health HTTP/1.1\r\nHost: x\r\n\r\n")
            rest = c.recv(65536)
        except OSError:
            rest = b""
        assert rest == b"", rest


def test_upload_part_copy_with_a_range(s3, bucket):
    src = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    r = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )
    e1 = r["CopyPartResult"]["ETag"]
    assert e1 == '"' + hashlib.md5(src[: 5 * MIB]).hexdigest() + '"'
    r = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=100-199",
    )
    e2 = r["CopyPartResult"]["ETag"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(
            Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=3,
            CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{6 * MIB}",
        )
    assert error_code(e) == "InvalidRange"
    r = s3.complete_multipart_upload(
        Bucket=bucket, Key="assembled", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    assert r["ETag"] == multipart_etag([src[: 5 * MIB], src[100:200]])
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == src[: 5 * MIB] + src[100:200]


def test_list_objects_v1_paging_with_delimiter(s3, bucket):
    for k in ["a.txt", "dir/1", "dir/2", "dir/sub/3", "e f+g.txt", "z/9"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.list_objects(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a.txt", "e f+g.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/", "z/"]
    assert r["IsTruncated"] is False
    seen, marker, pages = [], "", 0
    while True:
        r = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=1, Marker=marker)
        pages += 1
        seen += [o["Key"] for o in r.get("Contents", [])]
        seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        marker = r["NextMarker"]
    assert seen == ["a.txt", "dir/", "e f+g.txt", "z/"]
    assert pages == 4
    # Without a delimiter there is no NextMarker: clients resume after the last key.
    r = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in r["Contents"]] == ["a.txt", "dir/1"]
    assert r["IsTruncated"] is True and "NextMarker" not in r
    r = s3.list_objects(Bucket=bucket, Prefix="dir/", Marker="dir/1")
    assert [o["Key"] for o in r["Contents"]] == ["dir/2", "dir/sub/3"]
    out = s3.list_objects(Bucket=bucket, Prefix="e ")
    assert [o["Key"] for o in out["Contents"]] == ["e f+g.txt"]


def test_presigned_put_and_expiry(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pp"}, ExpiresIn=60)
    assert "X-Amz-Expires=60" in url
    req = urllib.request.Request(url, data=b"put through a presigned url", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="pp")["Body"].read() == b"put through a presigned url"
    expired = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "late"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(expired, data=b"x", method="PUT"), timeout=10)
    assert e.value.code == 403
    body = e.value.read()
    assert b"AccessDenied" in body and b"Request has expired" in body
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="late")


def b64(digest):
    return base64.b64encode(digest).decode()


def crc32(data):
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def test_checksums_are_checked_kept_and_returned(s3, bucket):
    body = b"checksummed body " * 1000
    # boto3's default: a CRC32 header, computed by the SDK, echoed back.
    r = s3.put_object(Bucket=bucket, Key="crc", Body=body)
    assert r["ChecksumCRC32"] == crc32(body)
    got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32(body)
    assert got["Body"].read() == body  # botocore also checked the body against it
    assert s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32(body)
    # Not asked for, or only a range: no checksum.
    assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="crc")
    assert "ChecksumCRC32" not in s3.get_object(
        Bucket=bucket, Key="crc", Range="bytes=0-9", ChecksumMode="ENABLED")

    r = s3.put_object(Bucket=bucket, Key="sha", Body=body, ChecksumAlgorithm="SHA256")
    assert r["ChecksumSHA256"] == b64(hashlib.sha256(body).digest())
    copied = s3.copy_object(Bucket=bucket, Key="sha-copy", CopySource={"Bucket": bucket, "Key": "sha"},
                            MetadataDirective="REPLACE", ContentType="text/plain")
    assert copied["CopyObjectResult"]["ETag"] == r["ETag"]
    assert s3.head_object(Bucket=bucket, Key="sha-copy", ChecksumMode="ENABLED")[
        "ChecksumSHA256"] == r["ChecksumSHA256"]

    # A value that does not match the bytes: BadDigest, and nothing stored.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumCRC32=crc32(b"other"))
    assert (error_code(e), status(e)) == ("BadDigest", 400)
    assert e.value.response["Error"]["Message"] == \
        "The CRC32 you specified did not match the calculated checksum."
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert status(e) == 404


def trailer_client(server):
    """A client that sends its checksum as an aws-chunked trailer, as boto3 does over HTTPS
    (STREAMING-UNSIGNED-PAYLOAD-TRAILER); over plain HTTP it would send a header."""
    client = s3_client(server)

    def to_trailer(params, **kwargs):
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    client.meta.events.register("before-call.s3.PutObject", to_trailer)
    client.meta.events.register("before-call.s3.UploadPart", to_trailer)
    return client


def test_trailing_checksums_of_chunked_uploads(server, s3, bucket):
    client = trailer_client(server)
    body = os.urandom(300 * 1024)
    r = client.put_object(Bucket=bucket, Key="trailed", Body=body)
    assert r["ChecksumCRC32"] == crc32(body)
    assert s3.get_object(Bucket=bucket, Key="trailed")["Body"].read() == body
    r = client.put_object(Bucket=bucket, Key="trailed-sha1", Body=body, ChecksumAlgorithm="SHA1")
    assert r["ChecksumSHA1"] == b64(hashlib.sha1(body).digest())

    # A trailer that does not match the bytes: BadDigest, and nothing stored.
    data = b"trailer mismatch"
    framed = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (
        len(data), data, crc32(b"other").encode())
    req = AWSRequest("PUT", f"{server.endpoint}/{bucket}/mismatch", data=framed, headers={
        "Content-Encoding": "aws-chunked", "X-Amz-Trailer": "x-amz-checksum-crc32",
        "X-Amz-Decoded-Content-Length": str(len(data))})
    req.context["checksum"] = {"request_algorithm": {"in": "trailer"}}
    S3SigV4Auth(Credentials(*server.credentials()), "s3", "us-east-1").add_auth(req)
    assert req.headers["X-Amz-Content-SHA256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    resp = URLLib3Session().send(req.prepare())
    assert resp.status_code == 400, resp.content
    assert b"<Code>BadDigest</Code>" in resp.content
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="mismatch")
    assert status(e) == 404

    parts = client.create_multipart_upload(Bucket=bucket, Key="parts")
    up = client.upload_part(Bucket=bucket, Key="parts", UploadId=parts["UploadId"], PartNumber=1,
                            Body=body)
    assert up["ChecksumCRC32"] == crc32(body)
    client.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=parts["UploadId"])


class LocalhostNames:
    """Resolves `*.localhost` to 127.0.0.1 in this process, as systemd-resolved and browsers
    do (this machine's resolver does not)."""

    def __enter__(self):
        self.real = socket.getaddrinfo

        def getaddrinfo(host, *args, **kwargs):
            if isinstance(host, str) and host.endswith(".localhost"):
                host = "127.0.0.1"
            return self.real(host, *args, **kwargs)

        socket.getaddrinfo = getaddrinfo
        return self

    def __exit__(self, *exc):
        socket.getaddrinfo = self.real


def test_virtual_host_addressing(server, s3, bucket):
    port = server.endpoint.rsplit(":", 1)[1]
    key, secret = server.credentials()
    virtual = boto3.client(
        "s3", endpoint_url=f"http://localhost:{port}", region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=botocore.config.Config(s3={"addressing_style": "virtual"}, signature_version="s3v4",
                                      retries={"max_attempts": 1}))
    with LocalhostNames():
        r = virtual.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert virtual.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"
        keys = [o["Key"] for o in virtual.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["dir/v.txt"]
        with pytest.raises(ClientError) as e:
            virtual.get_object(Bucket=bucket, Key="missing")
        assert error_code(e) == "NoSuchKey"
    # The same object, path-style.
    assert s3.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"


def test_a_put_over_5_gib_is_refused_before_its_body(server, s3, bucket):
    import http.client
    url = f"{server.endpoint}/{bucket}/huge"
    req = AWSRequest("PUT", url, data=b"")
    S3SigV4Auth(Credentials(*server.credentials()), "s3", "us-east-1").add_auth(req)
    host, port = server.endpoint.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("PUT", f"/{bucket}/huge", skip_accept_encoding=True)
    for k, v in req.headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(6 * 1024 ** 3))
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 400 and b"<Code>EntityTooLarge</Code>" in body, body
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="huge")
    assert status(e) == 404


def test_concurrent_writers_and_kill_9_never_tear_an_object(fresh_server):
    """Four writers put 1 MB bodies (each one byte repeated) to the same keys while readers
    check every body they get is whole and one writer's; then lambent is killed mid-write.
    After the restart each key holds one whole body, as acknowledged or newer."""
    import signal
    import threading
    s = fresh_server()
    client = s3_client(s)
    bucket = f"torn-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    size = 1024 * 1024
    keys = ["a", "b"]
    acked = {k: set() for k in keys}
    problems = []
    stop = threading.Event()

    def writer(n):
        c = s3_client(s)
        body = bytes([65 + n]) * size
        while not stop.is_set():
            for k in keys:
                try:
                    c.put_object(Bucket=bucket, Key=k, Body=body)
                    acked[k].add(65 + n)
                except Exception:
                    return  # the server was killed

    def reader():
        c = s3_client(s)
        while not stop.is_set():
            for k in keys:
                try:
                    got = c.get_object(Bucket=bucket, Key=k)["Body"].read()
                except ClientError:
                    continue  # not written yet
                except Exception:
                    return
                if len(got) != size or got.count(got[:1]) != size:
                    problems.append((k, len(got)))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(3)
    s.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not problems
    assert all(acked[k] for k in keys), acked

    s.start()
    client = s3_client(s)
    for k in keys:
        got = client.get_object(Bucket=bucket, Key=k)
        body = got["Body"].read()
        assert len(body) == size and body.count(body[:1]) == size
        assert got["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
    listed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == keys
    # Half-written files were swept at start: one data file per object.
    data = os.listdir(os.path.join(s.data_dir, "objects", "data"))
    assert len(data) == len(keys), data


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_chunked_put(server, bucket, key, data, chunk_size, tamper=False):
    """PutObject as the Java, Go and Rust SDKs send it over HTTP: `aws-chunked` with a
    signature per chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signed here by hand."""
    import datetime
    import http.client
    access, secret = server.credentials()
    host = server.endpoint.split("//")[1]
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    # Each chunk: hex size, ";chunk-signature=", 64 hex digits, CRLF, the bytes, CRLF.
    framed_len = sum(len(f"{len(c):x};chunk-signature=") + 64 + 2 + len(c) + 2 for c in chunks)
    headers = {
        "content-encoding": "aws-chunked",
        "content-length": str(framed_len),
        "host": host,
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-date": amz_date,
        "x-amz-decoded-content-length": str(len(data)),
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        "PUT", f"/{bucket}/{key}", "",
        "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
    k = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), "us-east-1"), "s3"),
              "aws4_request")
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    previous = hmac_hex(k, to_sign)
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
                                f"SignedHeaders={signed}, Signature={previous}")
    body = b""
    empty = hashlib.sha256(b"").hexdigest()
    for n, c in enumerate(chunks):
        string = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty,
                            hashlib.sha256(c).hexdigest()])
        previous = hmac_hex(k, string)
        payload = c
        if tamper and n == 1:
            payload = bytes([c[0] ^ 1]) + c[1:]
        body += f"{len(c):x};chunk-signature={previous}\r\n".encode() + payload + b"\r\n"
    assert len(body) == framed_len
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("PUT", f"/{bucket}/{key}", body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def hmac_hex(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def test_signed_chunked_upload_of_other_sdks(server, s3, bucket):
    data = os.urandom(200 * 1024 + 17)
    status_code, body = signed_chunked_put(server, bucket, "signed-chunks", data, 64 * 1024)
    assert status_code == 200, body
    got = s3.get_object(Bucket=bucket, Key="signed-chunks")
    assert got["Body"].read() == data
    assert got["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    # A chunk changed in flight no longer matches its signature: refused, nothing stored.
    status_code, body = signed_chunked_put(server, bucket, "tampered", data, 64 * 1024, tamper=True)
    assert status_code == 403 and b"SignatureDoesNotMatch" in body, (status_code, body)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="tampered")
    assert status(e) == 404
