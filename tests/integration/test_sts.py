"""STS (query protocol) with boto3: who the caller is, and temporary credentials.

AssumeRole needs a role in the IAM store; until the IAM API serves CreateRole, those tests
live in Rust (`crates/lambent/tests/sts.rs`), which creates roles through `IamStore` before
the server starts.
"""

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, error_code, invoke, status

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def sts(server):
    return server.client("sts")


def unchecked_sts(server, region="us-east-1"):
    """An STS client in `region` that sends what botocore would refuse to."""
    key, secret = server.credentials()
    return boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def test_get_caller_identity_for_root(sts):
    ident = sts.get_caller_identity()
    assert ident["Account"] == ACCOUNT
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert ident["UserId"] == ACCOUNT


def test_any_region_is_accepted(server):
    ident = unchecked_sts(server, "eu-west-1").get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


CALLER = """
import boto3

def handler(event, context):
    return boto3.client("sts").get_caller_identity()
"""


def test_a_function_is_its_roles_session_named_after_it(lam, function):
    name = function({"app.py": CALLER})
    _, body = invoke(lam, name)
    account = ROLE.split(":")[4]
    role = ROLE.rsplit("/", 1)[1]
    assert body["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role}/{name}", body
    assert body["Account"] == account
    role_id, session = body["UserId"].split(":")
    assert role_id.startswith("AROA") and len(role_id) == 21
    assert session == name


def test_get_session_token_for_root_works_for_a_call(server, sts):
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    temp = server.client(
        "sts",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert temp.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_get_session_token_duration_is_bounded(server):
    with pytest.raises(ClientError) as e:
        unchecked_sts(server).get_session_token(DurationSeconds=899)
    assert error_code(e) == "ValidationError"
    assert status(e) == 400
    assert "'durationSeconds'" in e.value.response["Error"]["Message"]


def test_assume_role_of_an_unknown_role_is_access_denied(sts):
    arn = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1")
    assert error_code(e) == "AccessDenied"
    assert status(e) == 403
    assert e.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"RoleSessionName": "Session1:2"},
            "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ),
        (
            {"RoleArn": "nothing-valid-in-here-at-all"},
            "nothing-valid-in-here-at-all is invalid",
        ),
        (
            {"DurationSeconds": 43201},
            "1 validation error detected: Value '43201' at 'durationSeconds' failed to "
            "satisfy constraint: Member must have value less than or equal to 43200",
        ),
    ],
)
def test_assume_role_validation_as_aws(sts, kwargs, message):
    args = {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r-validation", "RoleSessionName": "ok"}
    args.update(kwargs)
    with pytest.raises(ClientError) as e:
        sts.assume_role(**args)
    assert error_code(e) == "ValidationError"
    assert status(e) == 400
    assert e.value.response["Error"]["Message"] == message


def test_unknown_action_and_bad_key(server, sts):
    client = server.client("sts", aws_access_key_id="ASIANOSUCHKEYANYWHERE")
    with pytest.raises(ClientError) as e:
        client.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    assert status(e) == 403
