"""Lambda's control API (2015-03-31) through boto3 and the aws CLI, checked against AWS.

Expected codes, statuses and messages come from real AWS responses recorded by LocalStack
(/work/shared/spec/data/aws-recorded/lambda__test_lambda_api.snapshot.json, cited below as
`snapshot <Class::test> / <step>`) or from /work/shared/spec/lambda-api.md.
"""

import base64
import hashlib
import json
import re

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

import conftest
from conftest import ROLE, invoke, make_zip, unique

REGION = "us-east-1"
LAST_MODIFIED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)
NOT_FUNCTION_LEVEL = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support "
    "this operation. Please specify either a function name or an unqualified function ARN."
)
AWS_RUNTIMES = (
    "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]"
)
ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
ENV_4KB = (
    "Lambda was unable to configure your environment variables because the environment "
    "variables you have provided exceeded the 4KB limit. String measured: "
)
TAGS_ON_QUALIFIED = (
    "Tags on function aliases and versions are not supported. Please specify a function ARN."
)


# --------------------------------------------------------------------------- helpers


def code(value, extra=""):
    """A Python function returning {"v": value}; `extra` adds more module-level code."""
    return {
        "app.py": "import os\n\n"
        f"def handler(event, context):\n    return {{'v': {value!r}}}\n\n" + extra
    }


def b64sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def fn_arn(account, name, qualifier=None):
    arn = f"arn:aws:lambda:{REGION}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def http_status(resp):
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def check_error(excinfo, status_code, code_, message=None, prefix=None):
    """Asserts an AWS error's HTTP status, code and (exact or leading) message."""
    resp = excinfo.value.response
    got = (resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"])
    assert got == (status_code, code_), resp
    msg = resp["Error"].get("Message")
    if message is not None:
        assert msg == message
    if prefix is not None:
        assert msg is not None and msg.startswith(prefix), msg
    return msg


def raw_client(server):
    """A boto3 client that skips botocore's own parameter checks, so the server sees bad input."""
    key, secret = server.credentials()
    return boto3.client(
        "lambda",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(
            parameter_validation=False,
            retries={"max_attempts": 1, "mode": "standard"},
            read_timeout=60,
        ),
    )


def list_all_pages(call, key, page_size, **kwargs):
    """Follows NextMarker by hand; returns (items, pages)."""
    items, pages, marker = [], [], None
    for _ in range(10_000):
        args = dict(kwargs, MaxItems=page_size)
        if marker:
            args["Marker"] = marker
        resp = call(**args)
        pages.append(resp[key])
        items.extend(resp[key])
        marker = resp.get("NextMarker")
        if not marker:
            return items, pages
    raise AssertionError("pagination never ended")


class Functions:
    """Creates functions on one client and deletes them at the end of the test."""

    def __init__(self, client):
        self.client = client
        self.names = []

    def __call__(self, files=None, name=None, **kwargs):
        name = name or unique()
        zip_bytes = make_zip(files if files is not None else code(1))
        kwargs.setdefault("Role", ROLE)
        kwargs.setdefault("Runtime", "python3.12")
        kwargs.setdefault("Handler", "app.handler")
        resp = self.client.create_function(
            FunctionName=name, Code={"ZipFile": zip_bytes}, **kwargs
        )
        self.names.append(name)
        return name, resp, zip_bytes

    def cleanup(self):
        for name in self.names:
            try:
                self.client.delete_function(FunctionName=name)
            except ClientError:
                pass


@pytest.fixture
def mk(lam):
    """mk(files, name=None, **CreateFunction kwargs) -> (name, create response, zip bytes)."""
    f = Functions(lam)
    yield f
    f.cleanup()


@pytest.fixture(scope="module")
def raw(server):
    return raw_client(server)


@pytest.fixture(scope="module")
def account(lam):
    """The account id lambent puts in ARNs."""
    name = unique("acct")
    resp = lam.create_function(
        FunctionName=name, Role=ROLE, Runtime="python3.12", Handler="app.handler",
        Code={"ZipFile": make_zip(code(0))},
    )
    lam.delete_function(FunctionName=name)
    acct = resp["FunctionArn"].split(":")[4]
    assert re.fullmatch(r"\d{12}", acct), resp["FunctionArn"]
    return acct


# --------------------------------------------------------------------------- create / get


def test_create_function_response_shape(lam, mk, account):
    name = unique()
    zip_bytes = make_zip(code("shape"))
    resp = lam.create_function(
        FunctionName=name, Role=ROLE, Runtime="python3.12", Handler="app.handler",
        Code={"ZipFile": zip_bytes},
    )
    mk.names.append(name)
    assert http_status(resp) == 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == fn_arn(account, name)
    assert resp["CodeSha256"] == b64sha256(zip_bytes)
    assert resp["CodeSize"] == len(zip_bytes)
    assert resp["Version"] == "$LATEST"
    assert resp["State"] in ("Pending", "Active")
    assert LAST_MODIFIED.match(resp["LastModified"]), resp["LastModified"]
    assert UUID.match(resp["RevisionId"]), resp["RevisionId"]
    assert resp["Runtime"] == "python3.12"
    assert resp["Handler"] == "app.handler"
    assert resp["Role"] == ROLE
    assert resp["Description"] == ""
    assert resp["Timeout"] == 3
    assert resp["MemorySize"] == 128
    assert resp["EphemeralStorage"] == {"Size": 512}
    assert resp["Architectures"] == ["x86_64"]
    assert resp["PackageType"] == "Zip"
    assert resp["TracingConfig"] == {"Mode": "PassThrough"}
    assert resp["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_create_function_with_options_echoes_them(mk):
    name, resp, _ = mk(
        code(1), Description="described", Timeout=30, MemorySize=512,
        Environment={"Variables": {"K1": "v1", "K2": "v2"}},
        Architectures=["arm64"], EphemeralStorage={"Size": 2048},
        TracingConfig={"Mode": "Active"},
    )
    assert resp["Description"] == "described"
    assert resp["Timeout"] == 30
    assert resp["MemorySize"] == 512
    assert resp["Environment"] == {"Variables": {"K1": "v1", "K2": "v2"}}
    assert resp["Architectures"] == ["arm64"]
    assert resp["EphemeralStorage"] == {"Size": 2048}
    assert resp["TracingConfig"] == {"Mode": "Active"}


def test_get_function_and_configuration(lam, mk, account):
    name, created, zip_bytes = mk(code(1), Tags={"team": "blue", "env": "dev"})
    lam.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    got = lam.get_function(FunctionName=name)
    assert http_status(got) == 200
    conf = got["Configuration"]
    assert conf["FunctionArn"] == fn_arn(account, name)
    assert conf["CodeSha256"] == b64sha256(zip_bytes)
    assert conf["CodeSize"] == len(zip_bytes)
    assert conf["State"] == "Active"
    assert conf["LastUpdateStatus"] == "Successful"
    assert conf["Version"] == "$LATEST"
    assert got["Code"]["RepositoryType"] == "S3"
    assert isinstance(got["Code"]["Location"], str) and got["Code"]["Location"]
    assert got["Tags"] == {"team": "blue", "env": "dev"}
    assert "Concurrency" not in got

    only_conf = lam.get_function_configuration(FunctionName=name)
    assert http_status(only_conf) == 200
    for key in ("FunctionName", "FunctionArn", "CodeSha256", "CodeSize", "Handler", "Runtime",
                "Role", "Timeout", "MemorySize", "Version", "RevisionId", "LastModified",
                "State"):
        assert only_conf[key] == conf[key], key

    # Lookups by full and partial ARN reach the same function.
    by_arn = lam.get_function_configuration(FunctionName=fn_arn(account, name))
    assert by_arn["FunctionName"] == name
    partial = lam.get_function_configuration(FunctionName=f"{account}:function:{name}")
    assert partial["FunctionName"] == name

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    got = lam.get_function(FunctionName=name)
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 2}


def test_get_function_explicit_latest_arn(lam, mk, account):
    """Snapshot TestLambdaVersions::test_publish_version_on_create / get_function_latest_result:
    with Qualifier=$LATEST the ARN carries the qualifier."""
    name, _, _ = mk(code(1))
    latest = lam.get_function(FunctionName=name, Qualifier="$LATEST")
    assert latest["Configuration"]["Version"] == "$LATEST"
    assert latest["Configuration"]["FunctionArn"] == fn_arn(account, name, "$LATEST")
    conf = lam.get_function_configuration(FunctionName=fn_arn(account, name, "$LATEST"))
    assert conf["FunctionArn"] == fn_arn(account, name, "$LATEST")
    # Unqualified, it does not.
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == fn_arn(
        account, name)


def test_waiters_active_and_updated(lam, mk):
    name, _, _ = mk(code(1))
    cfg = {"Delay": 1, "MaxAttempts": 10}
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=cfg)
    lam.get_waiter("function_exists").wait(FunctionName=name, WaiterConfig=cfg)
    lam.update_function_configuration(FunctionName=name, Description="changed")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=cfg)
    conf = lam.get_function_configuration(FunctionName=name)
    assert conf["LastUpdateStatus"] == "Successful"
    assert conf["Description"] == "changed"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(2)))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=cfg)
    _, body = invoke(lam, name, {})
    assert body == {"v": 2}


# --------------------------------------------------------------------------- list


def test_list_functions_pagination_sees_each_once(lam, mk, account):
    mine = {mk(code(i))[0] for i in range(5)}
    items, pages = list_all_pages(lam.list_functions, "Functions", 2)
    assert all(len(p) <= 2 for p in pages), [len(p) for p in pages]
    names = [f["FunctionName"] for f in items]
    assert len(names) == len(set(names)), "a function was listed twice"
    assert mine <= set(names)
    for f in items:
        if f["FunctionName"] in mine:
            assert f["FunctionArn"] == fn_arn(account, f["FunctionName"])
            assert f["Version"] == "$LATEST"
    # A page size of one still covers everything.
    items1, pages1 = list_all_pages(lam.list_functions, "Functions", 1)
    assert all(len(p) == 1 for p in pages1)
    assert mine <= {f["FunctionName"] for f in items1}
    # boto3's own paginator agrees.
    paged = lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 3}
    ).build_full_result()
    assert mine <= {f["FunctionName"] for f in paged["Functions"]}


def test_list_functions_all_versions(lam, mk, account):
    """Snapshot TestLambdaFunction::test_list_functions / list_all, list_default."""
    fn1, _, _ = mk(code(1), Publish=True)
    fn2, _, _ = mk(code(2))
    ours = {fn1, fn2}
    every = lam.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 1}
    ).build_full_result()["Functions"]
    listed = sorted(
        (f["FunctionName"], f["Version"], f["FunctionArn"])
        for f in every if f["FunctionName"] in ours
    )
    assert listed == sorted([
        (fn1, "$LATEST", fn_arn(account, fn1, "$LATEST")),
        (fn1, "1", fn_arn(account, fn1, "1")),
        (fn2, "$LATEST", fn_arn(account, fn2, "$LATEST")),
    ])
    default = lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 1}
    ).build_full_result()["Functions"]
    listed = sorted(
        (f["FunctionName"], f["Version"], f["FunctionArn"])
        for f in default if f["FunctionName"] in ours
    )
    assert listed == sorted([
        (fn1, "$LATEST", fn_arn(account, fn1)),
        (fn2, "$LATEST", fn_arn(account, fn2)),
    ])


def test_list_functions_invalid_function_version(lam):
    """Snapshot TestLambdaFunction::test_list_functions / list_functions_invalid_functionversion."""
    with pytest.raises(ClientError) as e:
        lam.list_functions(FunctionVersion="invalid")
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL]",
    )


# --------------------------------------------------------------------------- updates


def test_update_function_configuration_every_field(server, lam, mk):
    extra = (
        "def handler2(event, context):\n"
        "    return {'h': 2, 'a': os.environ.get('AA'), 'b': os.environ.get('BB')}\n"
    )
    name, created, _ = mk(code(1, extra))
    new_role = server.ensure_role("lambent-other", conftest.EVERYTHING)
    resp = lam.update_function_configuration(
        FunctionName=name,
        Role=new_role,
        Handler="app.handler2",
        Description="new description",
        Timeout=42,
        MemorySize=1024,
        Environment={"Variables": {"AA": "alpha", "BB": "beta"}},
        Runtime="python3.13",
        EphemeralStorage={"Size": 4096},
        TracingConfig={"Mode": "Active"},
        LoggingConfig={"LogFormat": "Text", "LogGroup": "/custom/group"},
        DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
    )
    assert http_status(resp) == 200
    assert resp["RevisionId"] != created["RevisionId"]
    assert UUID.match(resp["RevisionId"])
    assert LAST_MODIFIED.match(resp["LastModified"])
    expected = {
        "Role": new_role,
        "Handler": "app.handler2",
        "Description": "new description",
        "Timeout": 42,
        "MemorySize": 1024,
        "Environment": {"Variables": {"AA": "alpha", "BB": "beta"}},
        "Runtime": "python3.13",
        "EphemeralStorage": {"Size": 4096},
        "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/custom/group"},
        "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
        "CodeSha256": created["CodeSha256"],
    }
    for key, value in expected.items():
        assert resp.get(key) == value, key
    conf = lam.get_function_configuration(FunctionName=name)
    for key, value in expected.items():
        assert conf.get(key) == value, key
    assert conf["RevisionId"] == resp["RevisionId"]

    # The new handler, environment and runtime are what runs.
    _, body = invoke(lam, name, {})
    assert body == {"h": 2, "a": "alpha", "b": "beta"}

    # Changing only one field keeps the others.
    again = lam.update_function_configuration(FunctionName=name, Timeout=7)
    assert again["Timeout"] == 7
    assert again["MemorySize"] == 1024
    assert again["Environment"] == {"Variables": {"AA": "alpha", "BB": "beta"}}
    assert again["RevisionId"] != resp["RevisionId"]


def test_logging_config_json_levels(lam, mk):
    """Snapshots TestLoggingConfig::test_function_partial_advanced_logging_configuration_update,
    test_advanced_logging_configuration_format_switch: JSON format carries log levels
    (INFO by default), Text does not."""
    name, created, _ = mk(code(1))
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    resp = lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON"})
    expected = {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{name}",
                "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    assert resp["LoggingConfig"] == expected
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == expected
    resp = lam.update_function_configuration(
        FunctionName=name,
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "WARN"},
    )
    expected = {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{name}",
                "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "WARN"}
    assert resp["LoggingConfig"] == expected
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == expected
    resp = lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "Text"})
    assert resp["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_update_configuration_revision_precondition(lam, mk):
    """Snapshot TestLambdaRevisions::test_function_revisions_basic."""
    name, created, _ = mk(code(1))
    current = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(
            FunctionName=name, Description="x", RevisionId="wrong-revision-id"
        )
    check_error(e, 412, "PreconditionFailedException", REVISION_MISMATCH)
    assert lam.get_function_configuration(FunctionName=name)["Description"] == ""

    ok = lam.update_function_configuration(
        FunctionName=name, Description="x", RevisionId=current
    )
    assert ok["Description"] == "x"
    # The old id is now stale.
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(
            FunctionName=name, Description="y", RevisionId=current
        )
    check_error(e, 412, "PreconditionFailedException", REVISION_MISMATCH)


def test_update_function_code(lam, mk, account):
    name, created, zip1 = mk(code("one"))
    _, body = invoke(lam, name, {})
    assert body == {"v": "one"}

    zip2 = make_zip(code("two"))
    resp = lam.update_function_code(FunctionName=name, ZipFile=zip2)
    assert http_status(resp) == 200
    assert resp["CodeSha256"] == b64sha256(zip2) != created["CodeSha256"]
    assert resp["CodeSize"] == len(zip2)
    assert resp["RevisionId"] != created["RevisionId"]
    assert resp["Version"] == "$LATEST"
    conf = lam.get_function_configuration(FunctionName=name)
    assert conf["CodeSha256"] == b64sha256(zip2)
    resp_, body = invoke(lam, name, {})
    assert body == {"v": "two"}
    assert resp_["ExecutedVersion"] == "$LATEST"

    # RevisionId precondition.
    with pytest.raises(ClientError) as e:
        lam.update_function_code(
            FunctionName=name, ZipFile=make_zip(code("x")), RevisionId=created["RevisionId"]
        )
    check_error(e, 412, "PreconditionFailedException", REVISION_MISMATCH)
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == b64sha256(zip2)

    # Publish=True publishes the new code as version 1 (snapshot TestLambdaVersions::
    # test_publish_with_update / update_function_code_result).
    zip3 = make_zip(code("three"))
    pub = lam.update_function_code(
        FunctionName=name, ZipFile=zip3, Publish=True, RevisionId=conf["RevisionId"]
    )
    assert pub["Version"] == "1"
    assert pub["FunctionArn"] == fn_arn(account, name, "1")
    assert pub["CodeSha256"] == b64sha256(zip3)
    v1 = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert v1["CodeSha256"] == b64sha256(zip3)
    _, body = invoke(lam, name, {}, Qualifier="1")
    assert body == {"v": "three"}


def test_update_code_invalid_zip(lam, mk):
    name, _, _ = mk(code(1))
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, ZipFile=b"this is not a zipfile")
    check_error(
        e, 400, "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )


# --------------------------------------------------------------------------- delete


def test_delete_function(lam, mk, account):
    """Snapshot TestLambdaFunction::test_function_lifecycle / delete_response, delete_postdelete."""
    name, _, _ = mk(code(1))
    resp = lam.delete_function(FunctionName=name)
    assert http_status(resp) == 204
    missing = f"Function not found: {fn_arn(account, name)}"
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    check_error(e, 404, "ResourceNotFoundException", missing)
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name)
    check_error(e, 404, "ResourceNotFoundException", missing)
    assert name not in {
        f["FunctionName"]
        for f in lam.get_paginator("list_functions").paginate().build_full_result()["Functions"]
    }
    # The name can be used again, and starts from scratch.
    _, again, _ = mk(code(2), name=name)
    assert again["Version"] == "$LATEST"
    assert lam.list_versions_by_function(FunctionName=name)["Versions"][0]["Version"] == "$LATEST"
    assert len(lam.list_versions_by_function(FunctionName=name)["Versions"]) == 1


def test_delete_function_version_by_qualifier(lam, mk, account):
    name, _, _ = mk(code(1))
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(2)))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"

    resp = lam.delete_function(FunctionName=name, Qualifier="1")
    assert http_status(resp) == 204
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name, Qualifier="1")
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {fn_arn(account, name, '1')}")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]
    _, body = invoke(lam, name, {}, Qualifier="2")
    assert body == {"v": 2}

    # $LATEST cannot go by qualifier (snapshot test_ops_with_arn_qualifier_mismatch
    # [delete_function] / match_exception).
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    check_error(e, 400, "InvalidParameterValueException",
                "$LATEST version cannot be deleted without deleting the function.")
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=fn_arn(account, name, "$LATEST"))
    check_error(e, 400, "InvalidParameterValueException",
                "$LATEST version cannot be deleted without deleting the function.")
    assert lam.get_function(FunctionName=name)["Configuration"]["Version"] == "$LATEST"

    # Deleting by a qualified ARN works like Qualifier.
    lam.delete_function(FunctionName=fn_arn(account, name, "2"))
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST"]


def test_delete_missing_version_is_noop(lam, mk, account):
    """Snapshot TestLambdaFunction::test_delete_on_nonexisting_version: deleting a version that
    is not there succeeds; once the function is gone it is 404 for the unqualified ARN."""
    name, _, _ = mk(code(1))
    assert http_status(lam.delete_function(FunctionName=name, Qualifier="1233")) == 204
    assert http_status(lam.delete_function(FunctionName=name, Qualifier="1233")) == 204
    lam.delete_function(FunctionName=name)
    missing = f"Function not found: {fn_arn(account, name)}"
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name)
    check_error(e, 404, "ResourceNotFoundException", missing)
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="1233")
    check_error(e, 404, "ResourceNotFoundException", missing)


# --------------------------------------------------------------------------- versions


def test_publish_version(lam, mk, account):
    """Snapshot TestLambdaVersions::test_version_lifecycle."""
    name, created, zip1 = mk(code(1), Description="No version")
    first = lam.publish_version(FunctionName=name, Description="first")
    assert http_status(first) == 201
    assert first["Version"] == "1"
    assert first["FunctionArn"] == fn_arn(account, name, "1")
    assert first["CodeSha256"] == b64sha256(zip1)
    assert first["Description"] == "first"
    assert LAST_MODIFIED.match(first["LastModified"])

    # Unchanged $LATEST: the existing version comes back, untouched.
    again = lam.publish_version(FunctionName=name, Description="ignored")
    assert again["Version"] == "1"
    assert again["RevisionId"] == first["RevisionId"]
    assert again["Description"] == "first"

    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(2)))
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    second = lam.publish_version(FunctionName=name)
    assert second["Version"] == "2"
    assert second["FunctionArn"] == fn_arn(account, name, "2")
    assert second["Timeout"] == 9
    # Version 1 keeps its own configuration.
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert (v1["Description"], v1["Timeout"]) == ("first", 3)

    # Numbers are never reused, even after the newest version is deleted.
    lam.delete_function(FunctionName=name, Qualifier="2")
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(3)))
    third = lam.publish_version(FunctionName=name)
    assert third["Version"] == "3"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == [
        "$LATEST", "1", "3"]


def test_publish_after_configuration_only_change(lam, mk, account):
    """Snapshot TestLambdaVersions::test_version_lifecycle / second_publish_response: a new
    Description on $LATEST is a change, so publishing makes version 2 carrying it; publishing
    again with another description returns that version unchanged (third_publish_response)."""
    name, _, _ = mk(code(1), Description="No version :(")
    lam.update_function_configuration(FunctionName=name, Description="First version :)")
    first = lam.publish_version(FunctionName=name, Description="First version description :)")
    assert first["Version"] == "1"
    lam.update_function_configuration(FunctionName=name, Description="Second version :))")
    second = lam.publish_version(FunctionName=name)
    assert second["Version"] == "2"
    assert second["Description"] == "Second version :))"
    third = lam.publish_version(FunctionName=name, Description="Third version description :)))")
    assert third["Version"] == "2"
    assert third["RevisionId"] == second["RevisionId"]
    assert third["Description"] == "Second version :))"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == [
        "$LATEST", "1", "2"]


def test_publish_version_preconditions(lam, mk):
    """Snapshots TestLambdaVersions::test_publish_with_wrong_sha256, test_publish_with_wrong_revisionid."""
    name, created, zip1 = mk(code(1))
    sha = b64sha256(zip1)
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, CodeSha256="somenonexistentsha256")
    check_error(
        e, 400, "InvalidParameterValueException",
        f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
        f"({sha}). Please try again with the CodeSHA256 in $LATEST.",
    )
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, RevisionId="wrong")
    check_error(e, 412, "PreconditionFailedException", REVISION_MISMATCH)
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == [
        "$LATEST"]
    latest = lam.get_function_configuration(FunctionName=name)
    ok = lam.publish_version(FunctionName=name, CodeSha256=sha, RevisionId=latest["RevisionId"])
    assert ok["Version"] == "1"


def test_list_versions_by_function(lam, mk, account):
    name, _, _ = mk(code(0))
    for i in range(1, 4):
        lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(i)))
        assert lam.publish_version(FunctionName=name)["Version"] == str(i)
    resp = lam.list_versions_by_function(FunctionName=name)
    assert http_status(resp) == 200
    got = [(v["Version"], v["FunctionArn"]) for v in resp["Versions"]]
    assert got == [
        ("$LATEST", fn_arn(account, name, "$LATEST")),
        ("1", fn_arn(account, name, "1")),
        ("2", fn_arn(account, name, "2")),
        ("3", fn_arn(account, name, "3")),
    ]
    assert "NextMarker" not in resp
    items, pages = list_all_pages(
        lam.list_versions_by_function, "Versions", 3, FunctionName=name
    )
    assert [len(p) for p in pages] == [3, 1]
    assert [v["Version"] for v in items] == ["$LATEST", "1", "2", "3"]
    items, pages = list_all_pages(
        lam.list_versions_by_function, "Versions", 1, FunctionName=name
    )
    assert [v["Version"] for v in items] == ["$LATEST", "1", "2", "3"]


def test_invoke_published_version_keeps_its_code(lam, mk, account):
    name, _, _ = mk(code("v1"))
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code("v2")))
    lam.update_function_configuration(FunctionName=name, Handler="app.other")
    # $LATEST now points at a handler that only the new code has.
    lam.update_function_code(
        FunctionName=name,
        ZipFile=make_zip(code("v2", "def other(event, context):\n    return {'v': 'other'}\n")),
    )

    resp, body = invoke(lam, name, {}, Qualifier="1")
    assert body == {"v": "v1"}
    assert resp["ExecutedVersion"] == "1"
    resp, body = invoke(lam, f"{name}:1", {})
    assert body == {"v": "v1"}
    assert resp["ExecutedVersion"] == "1"
    resp, body = invoke(lam, fn_arn(account, name, "1"), {})
    assert body == {"v": "v1"}

    resp, body = invoke(lam, name, {})
    assert body == {"v": "other"}
    assert resp["ExecutedVersion"] == "$LATEST"
    resp, body = invoke(lam, name, {}, Qualifier="$LATEST")
    assert body == {"v": "other"}
    assert resp["ExecutedVersion"] == "$LATEST"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"] == "$LATEST"

    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="7", Payload=b"{}")
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {fn_arn(account, name, '7')}")


# --------------------------------------------------------------------------- aliases


def two_versions(lam, mk):
    name, _, _ = mk(code(1))
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(2)))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    return name


def test_alias_lifecycle(lam, mk, account):
    """Snapshots TestLambdaAlias::test_alias_lifecycle, test_non_existent_alias_update/deletion."""
    name = two_versions(lam, mk)
    created = lam.create_alias(
        FunctionName=name, Name="live", FunctionVersion="1", Description="custom-alias"
    )
    assert http_status(created) == 201
    assert created["AliasArn"] == fn_arn(account, name, "live")
    assert created["Name"] == "live"
    assert created["FunctionVersion"] == "1"
    assert created["Description"] == "custom-alias"
    assert UUID.match(created["RevisionId"])
    assert "RoutingConfig" not in created

    got = lam.get_alias(FunctionName=name, Name="live")
    assert http_status(got) == 200
    for key in ("AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"):
        assert got[key] == created[key], key

    # GetFunction through the alias shows the version it points at.
    conf = lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]
    assert conf["Version"] == "1"
    conf = lam.get_function(FunctionName=created["AliasArn"])["Configuration"]
    assert conf["Version"] == "1"
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name, Qualifier="aliasdoesnotexist")
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {fn_arn(account, name, 'aliasdoesnotexist')}")

    lam.create_alias(FunctionName=name, Name="stable", FunctionVersion="2")
    lam.create_alias(FunctionName=name, Name="edge", FunctionVersion="$LATEST")
    listed = lam.list_aliases(FunctionName=name)
    assert http_status(listed) == 200
    assert sorted((a["Name"], a["FunctionVersion"]) for a in listed["Aliases"]) == [
        ("edge", "$LATEST"), ("live", "1"), ("stable", "2")]
    only_2 = lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]
    assert [a["Name"] for a in only_2] == ["stable"]
    items, pages = list_all_pages(lam.list_aliases, "Aliases", 2, FunctionName=name)
    assert sorted(a["Name"] for a in items) == ["edge", "live", "stable"]
    assert [len(p) for p in pages] == [2, 1]

    updated = lam.update_alias(
        FunctionName=name, Name="live", FunctionVersion="2", Description="moved"
    )
    assert http_status(updated) == 200
    assert updated["FunctionVersion"] == "2"
    assert updated["Description"] == "moved"
    assert updated["RevisionId"] != created["RevisionId"]
    resp, body = invoke(lam, name, {}, Qualifier="live")
    assert body == {"v": 2}
    assert resp["ExecutedVersion"] == "2"

    # Alias RevisionId precondition (snapshot TestLambdaRevisions::
    # test_function_revisions_version_and_alias / update_alias_revision_exception).
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1",
                         RevisionId=created["RevisionId"])
    check_error(e, 412, "PreconditionFailedException", REVISION_MISMATCH)

    deleted = lam.delete_alias(FunctionName=name, Name="live")
    assert http_status(deleted) == 204
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    check_error(e, 404, "ResourceNotFoundException",
                f"Cannot find alias arn: {fn_arn(account, name, 'live')}")
    # Deleting a missing alias is a no-op (snapshot TestLambdaAlias::
    # test_non_existent_alias_deletion).
    assert http_status(lam.delete_alias(FunctionName=name, Name="live")) == 204
    assert sorted(a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]) == [
        "edge", "stable"]


def test_update_missing_alias(lam, mk, account):
    """Snapshot TestLambdaAlias::test_non_existent_alias_update / update_alias_response."""
    name, _, _ = mk(code(1))
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="non-existent", Description="x")
    check_error(e, 404, "ResourceNotFoundException",
                f"Alias not found: {fn_arn(account, name, 'non-existent')}")


def test_get_function_through_alias_uses_alias_arn(lam, mk, account):
    """Snapshot TestLambdaAlias::test_alias_lifecycle / get_function_alias_1_1,
    get_function_byarn_alias_1_1: FunctionArn is the alias ARN, Version the target's."""
    name = two_versions(lam, mk)
    alias = lam.create_alias(FunctionName=name, Name="aliasname1_1", FunctionVersion="1")
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    for got in (lam.get_function(FunctionName=name, Qualifier="aliasname1_1"),
                lam.get_function(FunctionName=alias["AliasArn"])):
        conf = got["Configuration"]
        assert conf["Version"] == "1"
        assert conf["RevisionId"] == v1["RevisionId"]
        assert conf["FunctionArn"] == fn_arn(account, name, "aliasname1_1")


def test_alias_errors(lam, mk, account):
    """Snapshots TestLambdaAlias::test_notfound_and_invalid_routingconfigs, test_alias_naming."""
    name = two_versions(lam, mk)
    lam.create_alias(FunctionName=name, Name="custom", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="custom", FunctionVersion="1")
    check_error(e, 409, "ResourceConflictException",
                f"Alias already exists: {fn_arn(account, name, 'custom')}")

    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="non-existent")
    check_error(e, 404, "ResourceNotFoundException",
                f"Cannot find alias arn: {fn_arn(account, name, 'non-existent')}")

    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="2024", FunctionVersion="1")
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    )
    # Digits with other characters are fine.
    dated = lam.create_alias(FunctionName=name, Name="2024-01-02", FunctionVersion="1")
    assert dated["AliasArn"] == fn_arn(account, name, "2024-01-02")

    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="ten", FunctionVersion="10")
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {fn_arn(account, name, '10')}")

    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="same", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    check_error(e, 400, "InvalidParameterValueException",
                "Invalid function version 1. Function version 1 is already included in "
                "routing configuration.")

    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="latest2", FunctionVersion="$LATEST",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    check_error(e, 400, "InvalidParameterValueException",
                "$LATEST is not supported for an alias pointing to more than 1 version")

    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="toohigh", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 2.0}})
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' "
        "failed to satisfy constraint: Map value must satisfy constraint: [Member must have value "
        "less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member "
        "must not be null]",
    )


def test_create_alias_on_missing_function(lam, account):
    """Snapshot TestLambdaAlias::test_notfound_and_invalid_routingconfigs /
    routing_config_exc_fn_doesnotexist: the message names the target version."""
    name = unique("missing")
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="x", FunctionVersion="1")
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {fn_arn(account, name, '1')}")


def test_alias_weighted_routing(lam, mk, account):
    name = two_versions(lam, mk)
    alias = lam.create_alias(
        FunctionName=name, Name="canary", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert lam.get_alias(FunctionName=name, Name="canary")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"2": 0.5}}

    seen = {"1": 0, "2": 0}
    for _ in range(60):
        resp, body = invoke(lam, name, {}, Qualifier="canary")
        version = resp["ExecutedVersion"]
        assert version in seen, version
        assert body == {"v": int(version)}, (version, body)
        seen[version] += 1
    assert seen["1"] > 0 and seen["2"] > 0, seen

    # Through the alias ARN too.
    versions = set()
    for _ in range(20):
        resp, body = invoke(lam, fn_arn(account, name, "canary"), {})
        assert body == {"v": int(resp["ExecutedVersion"])}
        versions.add(resp["ExecutedVersion"])
    assert versions <= {"1", "2"} and versions

    # Routing removed: everything goes to the alias's own version.
    lam.update_alias(FunctionName=name, Name="canary",
                     RoutingConfig={"AdditionalVersionWeights": {}})
    for _ in range(5):
        resp, body = invoke(lam, fn_arn(account, name, "canary"), {})
        assert resp["ExecutedVersion"] == "1"
        assert body == {"v": 1}

    # Full weight on the other version.
    lam.update_alias(FunctionName=name, Name="canary",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    for _ in range(5):
        resp, _ = invoke(lam, name, {}, Qualifier="canary")
        assert resp["ExecutedVersion"] == "2"


# --------------------------------------------------------------------------- concurrency


def test_function_concurrency_put_get_delete(lam, mk, account):
    """Snapshots TestLambdaReservedConcurrency::test_function_concurrency(_exceptions)."""
    name, _, _ = mk(code(1))
    assert set(lam.get_function_concurrency(FunctionName=name)) == {"ResponseMetadata"}

    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    assert http_status(put) == 200
    assert put["ReservedConcurrentExecutions"] == 3
    got = lam.get_function_concurrency(FunctionName=name)
    assert http_status(got) == 200
    assert got["ReservedConcurrentExecutions"] == 3
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    _, body = invoke(lam, name, {})
    assert body == {"v": 1}

    deleted = lam.delete_function_concurrency(FunctionName=name)
    assert http_status(deleted) == 204
    after = lam.get_function_concurrency(FunctionName=name)
    assert http_status(after) == 200
    assert "ReservedConcurrentExecutions" not in after
    assert "Concurrency" not in lam.get_function(FunctionName=name)

    lam.publish_version(FunctionName=name)
    for qualified in (f"{name}:1", fn_arn(account, name, "$LATEST")):
        with pytest.raises(ClientError) as e:
            lam.put_function_concurrency(FunctionName=qualified, ReservedConcurrentExecutions=0)
        check_error(e, 400, "InvalidParameterValueException", NOT_FUNCTION_LEVEL)



def test_reserved_zero_throttles_every_invoke(lam, mk):
    """test_lambda.snapshot TestLambdaConcurrency::test_reserved_concurrency / exc_no_cap_requestresponse."""
    name, _, _ = mk(code(1))
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(3):
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        check_error(e, 429, "TooManyRequestsException", "Rate Exceeded.")
        assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    # A published version is throttled too: the reservation belongs to the function.
    lam.publish_version(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="1", Payload=b"{}")
    check_error(e, 429, "TooManyRequestsException")
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"

    lam.delete_function_concurrency(FunctionName=name)
    resp, body = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert body == {"v": 1}


def test_account_settings_shape(lam):
    resp = lam.get_account_settings()
    assert http_status(resp) == 200
    assert set(resp["AccountLimit"]) == {
        "TotalCodeSize", "CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions",
        "UnreservedConcurrentExecutions"}
    assert set(resp["AccountUsage"]) == {"TotalCodeSize", "FunctionCount"}
    assert resp["AccountLimit"]["ConcurrentExecutions"] == 20
    assert resp["AccountLimit"]["CodeSizeZipped"] == 52428800
    assert resp["AccountLimit"]["CodeSizeUnzipped"] == 262144000
    assert 0 <= resp["AccountLimit"]["UnreservedConcurrentExecutions"] <= 20


def test_account_settings_unreserved_accounting(fresh_server):
    s = fresh_server("--max-concurrency", "20")
    lam = s.client("lambda")
    fns = Functions(lam)
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 20
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 20
    assert settings["AccountUsage"]["FunctionCount"] == 0
    assert settings["AccountUsage"]["TotalCodeSize"] == 0

    a, _, zip_a = fns(code("a"))
    b, _, zip_b = fns(code("bb"))
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage["FunctionCount"] == 2
    assert usage["TotalCodeSize"] == len(zip_a) + len(zip_b)

    def unreserved():
        return lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]

    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=5)
    assert unreserved() == 15
    lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=5)
    assert unreserved() == 10
    below = ("Specified ReservedConcurrentExecutions for function decreases account's "
             "UnreservedConcurrentExecution below its minimum value of [10].")
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=6)
    check_error(e, 400, "InvalidParameterValueException", below)
    assert lam.get_function_concurrency(FunctionName=b)["ReservedConcurrentExecutions"] == 5
    # Re-putting the same value only counts the function once.
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=5)
    assert unreserved() == 10
    # Reserved 0 costs nothing.
    c, _, _ = fns(code("c"))
    lam.put_function_concurrency(FunctionName=c, ReservedConcurrentExecutions=0)
    assert unreserved() == 10
    # Releasing gives it back; deleting a function releases its reservation too.
    lam.delete_function_concurrency(FunctionName=a)
    assert unreserved() == 15
    lam.delete_function(FunctionName=b)
    assert unreserved() == 20
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=20)
    check_error(e, 400, "InvalidParameterValueException", below)
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=10)
    assert unreserved() == 10
    fns.cleanup()


def test_reserved_above_account_limit(fresh_server):
    """Snapshot TestLambdaReservedConcurrency::test_function_concurrency_limits /
    put_function_concurrency_account_limit_exceeded: more than the whole account limit gets the
    same minimum-unreserved error as any other over-reservation."""
    s = fresh_server("--max-concurrency", "20")
    lam = s.client("lambda")
    fns = Functions(lam)
    a, _, _ = fns(code("a"))
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=21)
    check_error(
        e, 400, "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [10].",
    )
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=a)
    fns.cleanup()


def test_account_minimum_unreserved_small_limit(fresh_server):
    s = fresh_server("--max-concurrency", "8")
    lam = s.client("lambda")
    fns = Functions(lam)
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 8
    a, _, _ = fns(code("a"))
    # min unreserved = min(10, 8 / 2) = 4
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=5)
    check_error(
        e, 400, "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [4].",
    )
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=4)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 4
    _, body = invoke(lam, a, {})
    assert body == {"v": "a"}
    fns.cleanup()


# --------------------------------------------------------------------------- tags


def test_tags_lifecycle(lam, mk, account):
    """Snapshot TestLambdaTag::test_tag_lifecycle[lambda_function]."""
    name, created, _ = mk(code(1))
    arn = created["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {}

    assert http_status(lam.tag_resource(Resource=arn, Tags={"A": "tag-a"})) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"A": "tag-a"}
    lam.tag_resource(Resource=arn, Tags={"B": "tag-b", "C": "tag-c"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"A": "tag-a", "B": "tag-b", "C": "tag-c"}
    lam.tag_resource(Resource=arn, Tags={"C": "tag-c-newsuffix", "D": "tag-d"})
    assert lam.list_tags(Resource=arn)["Tags"] == {
        "A": "tag-a", "B": "tag-b", "C": "tag-c-newsuffix", "D": "tag-d"}
    assert lam.get_function(FunctionName=name)["Tags"] == {
        "A": "tag-a", "B": "tag-b", "C": "tag-c-newsuffix", "D": "tag-d"}

    assert http_status(lam.untag_resource(Resource=arn, TagKeys=["A"])) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"B": "tag-b", "C": "tag-c-newsuffix", "D": "tag-d"}
    lam.untag_resource(Resource=arn, TagKeys=["B", "C"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"D": "tag-d"}
    assert http_status(lam.untag_resource(Resource=arn, TagKeys=["nonexisting"])) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"D": "tag-d"}
    lam.untag_resource(Resource=arn, TagKeys=["D", "nonexisting"])
    assert lam.list_tags(Resource=arn)["Tags"] == {}

    # Tags given at creation (snapshot TestLambdaTag::test_create_tag_on_fn_create).
    _, resp, _ = mk(code(2), Tags={"testtag": "value"})
    assert lam.list_tags(Resource=resp["FunctionArn"])["Tags"] == {"testtag": "value"}


def test_tags_errors(lam, mk, account):
    """Snapshots TestLambdaTags::test_tag_versions, test_tag_exceptions; TestLambdaTag::test_tag_exceptions."""
    name, created, _ = mk(code(1))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for qualifier in ("1", "$LATEST", "live"):
        qualified = fn_arn(account, name, qualifier)
        with pytest.raises(ClientError) as e:
            lam.tag_resource(Resource=qualified, Tags={"a": "b"})
        check_error(e, 400, "InvalidParameterValueException", TAGS_ON_QUALIFIED)
    assert lam.list_tags(Resource=created["FunctionArn"])["Tags"] == {}

    missing = fn_arn(account, "doesnotexist")
    expected = f"Function not found: {missing}"
    with pytest.raises(ClientError) as e:
        lam.tag_resource(Resource=missing, Tags={"a": "b"})
    check_error(e, 404, "ResourceNotFoundException", expected)
    with pytest.raises(ClientError) as e:
        lam.untag_resource(Resource=missing, TagKeys=["a"])
    check_error(e, 404, "ResourceNotFoundException", expected)
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource=missing)
    check_error(e, 404, "ResourceNotFoundException", expected)

    # Tags go with the function.
    lam.tag_resource(Resource=created["FunctionArn"], Tags={"k": "v"})
    lam.delete_function(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource=created["FunctionArn"])
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {created['FunctionArn']}")


# --------------------------------------------------------------------------- validation


def test_duplicate_create_conflicts(lam, mk):
    name, _, _ = mk(code(1))
    with pytest.raises(ClientError) as e:
        mk(code(2), name=name)
    check_error(e, 409, "ResourceConflictException", f"Function already exist: {name}")
    _, body = invoke(lam, name, {})
    assert body == {"v": 1}


def create_kwargs(**overrides):
    kwargs = dict(
        FunctionName=unique("bad"), Role=ROLE, Runtime="python3.12", Handler="app.handler",
        Code={"ZipFile": make_zip(code(1))},
    )
    kwargs.update(overrides)
    return kwargs


def assert_not_created(lam, name):
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "field,value,constraint",
    [
        ("MemorySize", 64, "memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"),
        ("MemorySize", 10241, "memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"),
        ("Timeout", 0, "timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        ("Timeout", 901, "timeout' failed to satisfy constraint: Member must have value less than or equal to 900"),
    ],
    ids=["memory-64", "memory-10241", "timeout-0", "timeout-901"],
)
def test_create_numeric_limits(raw, lam, field, value, constraint):
    kwargs = create_kwargs(**{field: value})
    with pytest.raises(ClientError) as e:
        raw.create_function(**kwargs)
    check_error(e, 400, "ValidationException",
                f"1 validation error detected: Value '{value}' at '{constraint}")
    assert_not_created(lam, kwargs["FunctionName"])


def test_numeric_limits_on_update_and_multiple_errors(raw, mk):
    name, _, _ = mk(code(1))
    with pytest.raises(ClientError) as e:
        raw.update_function_configuration(FunctionName=name, Timeout=901)
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
        "Member must have value less than or equal to 900",
    )
    with pytest.raises(ClientError) as e:
        raw.create_function(**create_kwargs(MemorySize=64, Timeout=901))
    msg = check_error(e, 400, "ValidationException", prefix="2 validation errors detected: ")
    parts = msg[len("2 validation errors detected: "):].split("; ")
    assert sorted(parts) == sorted([
        "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value "
        "greater than or equal to 128",
        "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less "
        "than or equal to 900",
    ])
    # Limits themselves are fine.
    ok = raw.update_function_configuration(FunctionName=name, Timeout=900, MemorySize=10240)
    assert (ok["Timeout"], ok["MemorySize"]) == (900, 10240)
    ok = raw.update_function_configuration(FunctionName=name, Timeout=1, MemorySize=128)
    assert (ok["Timeout"], ok["MemorySize"]) == (1, 128)


def test_bad_runtimes(lam, mk):
    """Snapshots TestLambdaFunction::test_create_lambda_exceptions, test_update_lambda_exceptions,
    TestRuntimeValidation::test_create_deprecated_function_runtime_with_validation_enabled[java8]."""
    for runtime in ("PYTHON3.9", "non-existent-runtime"):
        kwargs = create_kwargs(Runtime=runtime)
        with pytest.raises(ClientError) as e:
            lam.create_function(**kwargs)
        check_error(
            e, 400, "InvalidParameterValueException",
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            f"enum value set: {AWS_RUNTIMES} or be a valid ARN",
        )
        assert_not_created(lam, kwargs["FunctionName"])
    with pytest.raises(ClientError) as e:
        lam.create_function(**create_kwargs(Runtime="java8"))
    check_error(
        e, 400, "InvalidParameterValueException",
        "The runtime parameter of java8 is no longer supported for creating or updating AWS "
        "Lambda functions. We recommend you use a supported runtime while creating or updating "
        "functions.",
    )
    name, _, _ = mk(code(1))
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Runtime="PYTHON3.9")
    check_error(
        e, 400, "InvalidParameterValueException",
        f"Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy "
        f"enum value set: {AWS_RUNTIMES} or be a valid ARN",
    )
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.12"


def test_bad_role(lam, mk):
    """Snapshots TestLambdaFunction::test_create_lambda_exceptions / invalid_role_arn_exc."""
    expected = (
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {ROLE_PATTERN}"
    )
    kwargs = create_kwargs(Role="r1")
    with pytest.raises(ClientError) as e:
        lam.create_function(**kwargs)
    check_error(e, 400, "ValidationException", expected)
    assert_not_created(lam, kwargs["FunctionName"])
    name, _, _ = mk(code(1))
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Role="r1")
    check_error(e, 400, "ValidationException", expected)


def test_bad_architectures_and_zip(raw, lam):
    """Snapshot TestLambdaFunction::test_create_lambda_exceptions."""
    with pytest.raises(ClientError) as e:
        raw.create_function(**create_kwargs(Architectures=["x86_64", "arm64"]))
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to "
        "satisfy constraint: Member must have length less than or equal to 1",
    )
    kwargs = create_kwargs(Code={"ZipFile": b"this is not a zipfile, just a random string"})
    with pytest.raises(ClientError) as e:
        lam.create_function(**kwargs)
    check_error(
        e, 400, "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )
    assert_not_created(lam, kwargs["FunctionName"])


def test_bad_handlers(raw, lam, mk):
    for handler, constraint in (
        ("app handler", r"Member must satisfy regular expression pattern: [^\s]+"),
        ("app.\thandler", r"Member must satisfy regular expression pattern: [^\s]+"),
        ("a" * 125 + ".han", "Member must have length less than or equal to 128"),
    ):
        kwargs = create_kwargs(Handler=handler)
        with pytest.raises(ClientError) as e:
            raw.create_function(**kwargs)
        check_error(
            e, 400, "ValidationException",
            f"1 validation error detected: Value '{handler}' at 'handler' failed to satisfy "
            f"constraint: {constraint}",
        )
        assert_not_created(lam, kwargs["FunctionName"])
    # 128 characters is allowed.
    name, resp, _ = mk(code(1), Handler="a" * 124 + ".han")
    assert len(resp["Handler"]) == 128
    # lambent refuses handlers that would load code from outside the function (AWS would
    # accept them and fail at run time).
    for handler in ("/etc/app.handler", "../app.handler", "lib/../../x.handler"):
        kwargs = create_kwargs(Handler=handler)
        with pytest.raises(ClientError) as e:
            lam.create_function(**kwargs)
        check_error(e, 400, "InvalidParameterValueException")
        assert_not_created(lam, kwargs["FunctionName"])
        with pytest.raises(ClientError) as e:
            lam.update_function_configuration(FunctionName=name, Handler=handler)
        check_error(e, 400, "InvalidParameterValueException")
    assert lam.get_function_configuration(FunctionName=name)["Handler"] == "a" * 124 + ".han"


@pytest.mark.parametrize("key", ["AWS_REGION", "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME"])
def test_reserved_environment_variables(lam, mk, key):
    """AWS's message as quoted in mattermost/mattermost-cloud-monitoring#264."""
    expected = (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        f"for modification. Reserved keys used in this request: {key}"
    )
    kwargs = create_kwargs(Environment={"Variables": {"OK_VAR": "1", key: "x"}})
    with pytest.raises(ClientError) as e:
        lam.create_function(**kwargs)
    check_error(e, 400, "InvalidParameterValueException", expected)
    assert_not_created(lam, kwargs["FunctionName"])
    name, _, _ = mk(code(1), Environment={"Variables": {"OK_VAR": "1"}})
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {key: "x"}}
        )
    check_error(e, 400, "InvalidParameterValueException", expected)
    assert lam.get_function_configuration(FunctionName=name)["Environment"] == {
        "Variables": {"OK_VAR": "1"}}


@pytest.mark.parametrize("key", ["_HANDLER", "A", "MY-VAR", "1ABC"])
def test_environment_variable_key_pattern(lam, key):
    """Keys must match the model's pattern [a-zA-Z]([a-zA-Z0-9_])+ (so `_HANDLER`, although
    reserved, fails this check first). AWS's message as quoted in klothoplatform/klotho#317 and
    trek10inc/serverless-secrets#39 (the value is omitted: the member is sensitive)."""
    kwargs = create_kwargs(Environment={"Variables": {key: "x"}})
    with pytest.raises(ClientError) as e:
        lam.create_function(**kwargs)
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value at 'environment.variables' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
        "pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
    )
    assert_not_created(lam, kwargs["FunctionName"])


def test_environment_over_4kb(lam, mk):
    """Snapshots TestLambdaSizeLimits::test_large_environment_variables_fails,
    test_large_environment_fails_multiple_keys."""
    big = "x" * 4096
    kwargs = create_kwargs(Environment={"Variables": {"LARGE_VAR": big}})
    with pytest.raises(ClientError) as e:
        lam.create_function(**kwargs)
    check_error(e, 400, "InvalidParameterValueException",
                ENV_4KB + json.dumps({"LARGE_VAR": big}, separators=(",", ":")))
    assert_not_created(lam, kwargs["FunctionName"])

    # Just under the limit is fine, and an update over it fails and changes nothing.
    near = "y" * (4096 - len('{"NEAR":""}'))
    name, resp, _ = mk(code(1), Environment={"Variables": {"NEAR": near}})
    assert resp["Environment"]["Variables"]["NEAR"] == near
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"NEAR": near + "yy"}}
        )
    check_error(e, 400, "InvalidParameterValueException", prefix=ENV_4KB)
    conf = lam.get_function_configuration(FunctionName=name)
    assert conf["Environment"]["Variables"]["NEAR"] == near


def test_environment_over_4kb_measured_in_given_order(lam):
    """Snapshot TestLambdaSizeLimits::test_large_environment_fails_multiple_keys: the measured
    string keeps the variables in the order the request gave them."""
    big = "x" * 4096
    kwargs = create_kwargs(Environment={"Variables": {"SMALL_VAR": "ok", "LARGE_VAR": big}})
    with pytest.raises(ClientError) as e:
        lam.create_function(**kwargs)
    check_error(e, 400, "InvalidParameterValueException",
                ENV_4KB + '{"SMALL_VAR":"ok","LARGE_VAR":"' + big + '"}')


def test_function_name_too_long(lam, account):
    """Snapshots TestLambdaFunction::test_function_arns / long_function_name_exc and
    test_function_name_and_qualifier_validation[function_name_too_long-*]."""
    long_name = "a" * 65
    with pytest.raises(ClientError) as e:
        lam.create_function(**create_kwargs(FunctionName=long_name))
    check_error(
        e, 400, "InvalidParameterValueException",
        f"1 validation error detected: Value '{long_name}' at 'functionName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64",
    )


def test_function_name_too_long_lookups_are_not_found(lam, account):
    """Snapshot TestLambdaFunction::test_function_name_and_qualifier_validation
    [function_name_too_long-get_function / -delete_function / -invoke]."""
    long_name = "a" * 65
    base = f"Function not found: {fn_arn(account, long_name)}"
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=long_name)
    check_error(e, 404, "ResourceNotFoundException", base)
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=long_name)
    check_error(e, 404, "ResourceNotFoundException", base)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=long_name, Payload=b"{}")
    check_error(e, 404, "ResourceNotFoundException", base + ":$LATEST")


def test_function_name_of_64_is_fine(lam):
    ok = "b" * 52 + unique("")[1:]
    assert len(ok) == 64
    fns = Functions(lam)
    try:
        fns(code(1), name=ok)
        assert lam.get_function(FunctionName=ok)["Configuration"]["FunctionName"] == ok
    finally:
        fns.cleanup()


def test_invalid_function_name_pattern(lam):
    """Snapshot TestLambdaFunction::test_function_arns / invalid_function_name_exc."""
    with pytest.raises(ClientError) as e:
        lam.create_function(**create_kwargs(FunctionName="invalid:function:name"))
    check_error(
        e, 400, "ValidationException",
        "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: "
        r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
        r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
    )


ZIP = make_zip(code(1))
UNKNOWN_OPS = {
    # op: (call, exact message suffix or None when only the prefix is known)
    "get_function": (lambda c, n: c.get_function(FunctionName=n), ""),
    "get_function_configuration": (
        lambda c, n: c.get_function_configuration(FunctionName=n), ""),
    "delete_function": (lambda c, n: c.delete_function(FunctionName=n), ""),
    "get_function_concurrency": (lambda c, n: c.get_function_concurrency(FunctionName=n), ""),
    "put_function_concurrency": (
        lambda c, n: c.put_function_concurrency(FunctionName=n, ReservedConcurrentExecutions=1),
        ":$LATEST"),
    "update_function_configuration": (
        lambda c, n: c.update_function_configuration(FunctionName=n, Description="x"), None),
    "update_function_code": (lambda c, n: c.update_function_code(FunctionName=n, ZipFile=ZIP), None),
    "invoke": (lambda c, n: c.invoke(FunctionName=n, Payload=b"{}"), None),
    "publish_version": (lambda c, n: c.publish_version(FunctionName=n), None),
    "list_versions_by_function": (lambda c, n: c.list_versions_by_function(FunctionName=n), None),
    "list_aliases": (lambda c, n: c.list_aliases(FunctionName=n), None),
    "create_alias": (
        lambda c, n: c.create_alias(FunctionName=n, Name="a", FunctionVersion="$LATEST"), None),
    "delete_function_concurrency": (
        lambda c, n: c.delete_function_concurrency(FunctionName=n), None),
}


@pytest.mark.parametrize("op", sorted(UNKNOWN_OPS))
def test_unknown_function_is_404(lam, account, op):
    """Snapshots TestLambdaFunction::test_ops_on_nonexisting_fn[*],
    TestLambdaReservedConcurrency::test_function_concurrency_exceptions."""
    call, suffix = UNKNOWN_OPS[op]
    name = unique("missing")
    with pytest.raises(ClientError) as e:
        call(lam, name)
    base = f"Function not found: {fn_arn(account, name)}"
    if suffix is not None:
        check_error(e, 404, "ResourceNotFoundException", base + suffix)
    elif op == "invoke":
        # AWS has answered both ways (test_lambda.snapshot TestLambdaFeatures::test_invoke_exceptions).
        msg = check_error(e, 404, "ResourceNotFoundException")
        assert msg in (base, base + ":$LATEST"), msg
    else:
        check_error(e, 404, "ResourceNotFoundException", prefix=base)


def test_unknown_version_and_qualifier_errors(lam, mk, account):
    """Snapshots TestLambdaFunction::test_ops_on_nonexisting_version[*],
    test_ops_with_arn_qualifier_mismatch[*]."""
    name, _, _ = mk(code(1))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code(2)))
    lam.publish_version(FunctionName=name)
    for call in (lam.get_function, lam.get_function_configuration):
        with pytest.raises(ClientError) as e:
            call(FunctionName=name, Qualifier="1221")
        check_error(e, 404, "ResourceNotFoundException",
                    f"Function not found: {fn_arn(account, name, '1221')}")

    mismatch = "The derived qualifier from the function name does not match the specified qualifier."
    for call in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        with pytest.raises(ClientError) as e:
            call(FunctionName=f"{name}:1", Qualifier="2")
        check_error(e, 400, "InvalidParameterValueException", mismatch)
        with pytest.raises(ClientError) as e:
            call(FunctionName=fn_arn(account, name, "1"), Qualifier="$LATEST")
        check_error(e, 400, "InvalidParameterValueException", mismatch)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=f"{name}:1", Qualifier="2", Payload=b"{}")
    check_error(e, 400, "InvalidParameterValueException", mismatch)
    # Nothing was deleted by the refused calls.
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == [
        "$LATEST", "1", "2"]
    # Matching name and qualifier are fine.
    conf = lam.get_function_configuration(FunctionName=f"{name}:1", Qualifier="1")
    assert conf["Version"] == "1"

    # A missing function under a matching qualifier (snapshot match_exception).
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=fn_arn(account, "some-function-" + name, "$LATEST"),
                         Qualifier="$LATEST")
    check_error(e, 404, "ResourceNotFoundException",
                f"Function not found: {fn_arn(account, 'some-function-' + name, '$LATEST')}")


def test_other_region_arn_is_unreachable(lam, mk, account):
    """Snapshot TestLambdaFunction::test_get_function_wrong_region[*]."""
    name, _, _ = mk(code(1))
    other = f"arn:aws:lambda:eu-west-1:{account}:function:{name}"
    expected = "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    calls = {
        "get_function": lambda: lam.get_function(FunctionName=other),
        "get_function_configuration": lambda: lam.get_function_configuration(FunctionName=other),
        "get_function_concurrency": lambda: lam.get_function_concurrency(FunctionName=other),
        "delete_function": lambda: lam.delete_function(FunctionName=other),
        "invoke": lambda: lam.invoke(FunctionName=other, Payload=b"{}"),
    }
    for op, call in calls.items():
        with pytest.raises(ClientError) as e:
            call()
        assert check_error(e, 404, "ResourceNotFoundException") == expected, op
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


# --------------------------------------------------------------------------- aws CLI


def test_aws_cli_function_lifecycle(server, lam, tmp_path, account):
    name = unique("cli")
    zip_bytes = make_zip(code("cli"))
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(zip_bytes)
    try:
        out = server.aws(
            "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
            "--handler", "app.handler", "--role", ROLE, "--zip-file", f"fileb://{zip_path}",
            "--tags", "team=cli",
        )
        created = json.loads(out.stdout)
        assert created["FunctionArn"] == fn_arn(account, name)
        assert created["CodeSha256"] == b64sha256(zip_bytes)
        assert created["Version"] == "$LATEST"

        got = json.loads(server.aws("lambda", "get-function", "--function-name", name).stdout)
        assert got["Configuration"]["CodeSha256"] == b64sha256(zip_bytes)
        assert got["Code"]["RepositoryType"] == "S3"
        assert got["Tags"] == {"team": "cli"}

        published = json.loads(
            server.aws("lambda", "publish-version", "--function-name", name).stdout
        )
        assert published["Version"] == "1"
        assert published["FunctionArn"] == fn_arn(account, name, "1")
        _, body = invoke(lam, name, {}, Qualifier="1")
        assert body == {"v": "cli"}

        missing = server.aws("lambda", "get-function", "--function-name", name + "-nope",
                             check=False)
        assert missing.returncode != 0
        err = missing.stderr.decode()
        assert "ResourceNotFoundException" in err
        assert f"Function not found: {fn_arn(account, name + '-nope')}" in err

        server.aws("lambda", "delete-function", "--function-name", name)
        with pytest.raises(ClientError) as e:
            lam.get_function(FunctionName=name)
        check_error(e, 404, "ResourceNotFoundException")
    finally:
        try:
            lam.delete_function(FunctionName=name)
        except ClientError:
            pass


# --------------------------------------------------------------------------- persistence


def test_everything_survives_restart(fresh_server):
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("persist")
    lam.create_function(
        FunctionName=name, Role=ROLE, Runtime="python3.12", Handler="app.handler",
        Code={"ZipFile": make_zip(code("one"))}, Tags={"keep": "me"},
        Environment={"Variables": {"KEY": "V"}}, Description="persisted",
    )
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(code("two")))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.delete_function(FunctionName=name, Qualifier="2")
    zip3 = make_zip(code("three"))
    lam.update_function_code(FunctionName=name, ZipFile=zip3)
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                             Description="the live one")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    before = lam.get_function(FunctionName=name)
    before_v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    s.stop()

    s2 = conftest.Server(s.data_dir).start()
    try:
        lam2 = s2.client("lambda")
        after = lam2.get_function(FunctionName=name)
        conf = after["Configuration"]
        for key in ("FunctionArn", "CodeSha256", "CodeSize", "RevisionId", "LastModified",
                    "Description", "Environment", "Handler", "Runtime", "Timeout", "MemorySize"):
            assert conf[key] == before["Configuration"][key], key
        assert conf["CodeSha256"] == b64sha256(zip3)
        assert after["Tags"] == {"keep": "me"}
        assert after["Concurrency"] == {"ReservedConcurrentExecutions": 3}
        assert lam2.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 3
        assert lam2.list_tags(Resource=conf["FunctionArn"])["Tags"] == {"keep": "me"}
        v1 = lam2.get_function_configuration(FunctionName=name, Qualifier="1")
        assert v1["RevisionId"] == before_v1["RevisionId"]
        assert v1["CodeSha256"] == before_v1["CodeSha256"]
        versions = [v["Version"] for v in lam2.list_versions_by_function(FunctionName=name)["Versions"]]
        assert versions == ["$LATEST", "1"]
        got_alias = lam2.get_alias(FunctionName=name, Name="live")
        for key in ("AliasArn", "FunctionVersion", "Description", "RevisionId"):
            assert got_alias[key] == alias[key], key
        assert lam2.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == (
            lam2.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] - 3)

        _, body = invoke(lam2, name, {})
        assert body == {"v": "three"}
        resp, body = invoke(lam2, name, {}, Qualifier="1")
        assert body == {"v": "one"}
        resp, body = invoke(lam2, name, {}, Qualifier="live")
        assert (resp["ExecutedVersion"], body) == ("1", {"v": "one"})

        # Version numbers carry on past the deleted 2.
        assert lam2.publish_version(FunctionName=name)["Version"] == "3"
    finally:
        s2.stop()
