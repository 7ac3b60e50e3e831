"""Runtimes are what they say they are: each `python3.X` and `nodejsNN.x` runtime runs on an
interpreter of its version when the host has one (else the nearest, which the log says), and
the AWS SDKs AWS's runtimes include (boto3; the AWS SDK for JavaScript v3) are importable
from the SDK cache, with the function's own copy winning, as on AWS.

The cache is the one `scripts/test` installs (`LAMBENT_RUNTIMES_DIR`, see conftest).
"""

import os
import re
import subprocess
import uuid

import boto3
import botocore.config
import pytest

from conftest import LAMBENT, ROLE, invoke, make_zip, unique

VIEWED = os.geteuid() == 0  # as root every environment has its own view (the CI machines)


@pytest.fixture(scope="module")
def s3(server):
    key, secret = server.credentials()
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture
def bucket(s3):
    name = f"lambent-sdk-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
    s3.delete_bucket(Bucket=name)


def doctor():
    """`lambent doctor`'s runtime lines, by runtime: (what serves it, exact/nearest)."""
    out = subprocess.run([LAMBENT, "doctor"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    served = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^\s+(\S+) → (.*)$", line)
        if m:
            served[m.group(1)] = m.group(2)
    return out.stdout, served


def assert_ok(resp, body):
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, body


# ======================================================================== Node.js

NODE_CJS = """
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
// lambent's S3 is path-style; credentials, region and endpoint come from the environment.
const s3 = new S3Client({ forcePathStyle: true });
exports.handler = async (event) => {
  await s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: event.key, Body: 'from node, commonjs' }));
  return { resolved: require.resolve('@aws-sdk/client-s3'), nodePath: process.env.NODE_PATH };
};
"""

NODE_ESM = """
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({ forcePathStyle: true });
export const handler = async (event) => {
  await s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: event.key, Body: 'from node, es module' }));
  return { ok: true };
};
"""


def test_node_commonjs_function_writes_to_s3_with_the_runtime_sdk(lam, function, s3, bucket):
    name = function({"index.js": NODE_CJS}, runtime="nodejs20.x", handler="index.handler", Timeout=30)
    resp, body = invoke(lam, name, {"bucket": bucket, "key": "cjs.txt"})
    assert_ok(resp, body)
    assert s3.get_object(Bucket=bucket, Key="cjs.txt")["Body"].read() == b"from node, commonjs"
    # The SDK is the runtime's, outside the function's code, as on AWS.
    assert not body["resolved"].startswith("/var/task"), body
    if VIEWED:
        assert body["resolved"].startswith(("/var/runtime/node_modules/", "/var/node_modules/")), body
        assert "/var/runtime/node_modules" in body["nodePath"].split(":"), body


def test_node_es_module_imports_the_runtime_sdk(lam, function, s3, bucket):
    # ES modules ignore NODE_PATH: the SDK must be found from /var/task all the same.
    name = function({"index.mjs": NODE_ESM}, runtime="nodejs20.x", handler="index.handler", Timeout=30)
    resp, body = invoke(lam, name, {"bucket": bucket, "key": "esm.txt"})
    assert_ok(resp, body)
    assert body == {"ok": True}
    assert s3.get_object(Bucket=bucket, Key="esm.txt")["Body"].read() == b"from node, es module"


FAKE_CLIENT_S3 = {
    "node_modules/@aws-sdk/client-s3/package.json":
        '{"name": "@aws-sdk/client-s3", "version": "0.0.0-vendored", "main": "index.js"}',
    "node_modules/@aws-sdk/client-s3/index.js": "exports.VENDORED = 'vendored';\n",
}


def test_a_node_function_own_sdk_wins_for_require_and_import(lam, function):
    files = {
        **FAKE_CLIENT_S3,
        "cjs.js": "exports.handler = async () => require('@aws-sdk/client-s3').VENDORED ?? 'runtime';\n",
        "esm.mjs": "import * as s3 from '@aws-sdk/client-s3';\n"
                   "export const handler = async () => s3.VENDORED ?? 'runtime';\n",
    }
    for handler in ("cjs.handler", "esm.handler"):
        name = function(files, runtime="nodejs20.x", handler=handler)
        resp, body = invoke(lam, name, {})
        assert_ok(resp, body)
        assert body == "vendored", handler


# ======================================================================== Python

PY_BOTO3 = """
import sys
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=b"from python")
    return {"boto3": boto3.__file__, "version": boto3.__version__,
            "python": list(sys.version_info[:2])}
"""


def test_python_function_writes_to_s3_with_the_runtime_boto3(lam, function, s3, bucket):
    name = function({"app.py": PY_BOTO3}, runtime="python3.12", Timeout=30)
    resp, body = invoke(lam, name, {"bucket": bucket, "key": "py.txt"})
    assert_ok(resp, body)
    assert s3.get_object(Bucket=bucket, Key="py.txt")["Body"].read() == b"from python"
    assert not body["boto3"].startswith("/var/task"), body
    if VIEWED:
        # The runtime's own copy, not whatever the host interpreter has installed.
        assert body["boto3"].startswith("/var/lang/lib/sdk/python/"), body


def test_a_python_function_that_vendors_boto3_gets_its_own(lam, function):
    code = "import boto3\n\ndef handler(event, context):\n    return [boto3.__version__, boto3.__file__]\n"
    name = function({"app.py": code, "boto3/__init__.py": '__version__ = "vendored"\n'})
    resp, body = invoke(lam, name, {})
    assert_ok(resp, body)
    assert body[0] == "vendored", body
    assert body[1].endswith("/boto3/__init__.py"), body
    if VIEWED:
        assert body[1] == "/var/task/boto3/__init__.py", body


PY_VERSION = "import sys\n\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"


@pytest.mark.parametrize("minor", [12, 11])
def test_a_python_runtime_runs_on_its_own_version(lam, function, minor):
    runtime = f"python3.{minor}"
    _, served = doctor()
    if not served.get(runtime, "").endswith(", exact"):
        pytest.skip(f"this host has no Python 3.{minor} (doctor: {served.get(runtime)})")
    name = function({"app.py": PY_VERSION}, runtime=runtime)
    resp, body = invoke(lam, name, {})
    assert_ok(resp, body)
    assert body == [3, minor]


def first_log_line(server, name):
    logs = server.client("logs")
    group = f"/aws/lambda/{name}"
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    return [e["message"] for e in events]


@pytest.mark.parametrize("runtime,files,handler", [
    ("python3.14", {"app.py": PY_VERSION}, "app.handler"),
    ("nodejs24.x", {"index.js": "exports.handler = async () => process.versions.node;\n"}, "index.handler"),
])
def test_a_runtime_the_host_lacks_runs_on_the_nearest_and_its_log_says_so(
        server, lam, function, runtime, files, handler):
    _, served = doctor()
    if not served.get(runtime, "").endswith(", nearest"):
        pytest.skip(f"this host serves {runtime} exactly or not at all (doctor: {served.get(runtime)})")
    interpreter = served[runtime].rsplit(", ", 1)[0]  # "Python 3.13.0 (/path/python3.13)"
    name = function(files, runtime=runtime, handler=handler)
    resp, body = invoke(lam, name, {})
    assert_ok(resp, body)
    lines = first_log_line(server, name)
    assert lines[0] == f"lambent: runtime {runtime} is served by {interpreter}: the host has no " + (
        f"python3.{runtime.split('.')[1]}" if runtime.startswith("python") else
        f"Node.js {runtime[len('nodejs'):-2]}"), lines
    assert lines[1].startswith("START RequestId: "), lines


# ======================================================================== doctor, install

def test_doctor_names_each_runtime_interpreter_and_the_sdks():
    text, served = doctor()
    for runtime in ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
                    "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
                    "provided", "provided.al2", "provided.al2023"]:
        assert runtime in served, runtime
        what = served[runtime]
        if runtime.startswith("provided"):
            assert what == "the function's own bootstrap"
            continue
        if what == "not available":
            continue
        m = re.match(r"^(Python|Node\.js) (\d+)\.(\d+)\.\d+ \((/\S+)\), (exact|nearest)$", what)
        assert m, what
        language, major, minor, path, how = m.groups()
        assert language == ("Python" if runtime.startswith("python") else "Node.js")
        assert os.path.isfile(path), path
        # "exact" only when the version is the one the runtime names.
        named = runtime[len("python3."):] if runtime.startswith("python") else runtime[len("nodejs"):-2]
        line = minor if runtime.startswith("python") else major
        assert (how == "exact") == (line == named), what
    # scripts/test installed the SDKs into the tests' cache.
    assert re.search(r"Python SDK: boto3 \S+ for Python 3\.10\+: installed at ", text), text
    assert re.search(r"Node\.js SDK: .*: installed at ", text), text
    assert "NOT installed" not in text, text


def test_an_offline_first_start_says_what_is_missing_and_keeps_serving(fresh_server, tmp_path):
    runtimes = tmp_path / "runtimes"
    s = fresh_server(
        "--runtimes-dir", str(runtimes),
        env={
            # pip and npm as they behave offline: no index, a registry nobody answers on.
            "PIP_NO_INDEX": "1",
            "npm_config_registry": "http://127.0.0.1:9/",
            "npm_config_offline": "true",
        },
    )
    with open(s.log_path, errors="replace") as f:
        log = f.read()
    assert re.search(r"the Python SDK \(boto3 \S+ for Python 3\.10\+\) is not installed: "
                     r"`\S+ -m pip install .*boto3==", log), log
    assert "No matching distribution" in log or "Could not find a version" in log, log
    assert re.search(r"the AWS SDK for JavaScript v3 \(\S+\) is not installed: `\S*npm install ", log), log
    assert not (runtimes / "sdk" / "python").exists() or not any(
        p.name[0] != "." for p in (runtimes / "sdk" / "python").iterdir())
    # It serves all the same.
    lam = s.client("lambda")
    name = unique("offline")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": make_zip({"app.py": PY_VERSION})})
    resp, body = invoke(lam, name, {})
    assert_ok(resp, body)
