"""Execution roles: Lambda checks that a function's role exists and trusts it, and a data
directory made before IAM keeps working through a one-time upgrade that `lambent doctor`
names."""

import json
import os
import sqlite3
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import EVERYTHING, LAMBENT, ROLE, Server, error_code, invoke, make_zip, unique

ACCOUNT = "000000000000"
CANNOT = "The role defined for the function cannot be assumed by Lambda."
ECHO = "def handler(event, context):\n    return {'ok': True}\n"
LISTER = """
import boto3

def handler(event, context):
    try:
        return {"listed": len(boto3.client("lambda").list_functions()["Functions"])}
    except Exception as e:
        return {"error": e.response["Error"]["Code"]}
"""


def trust(service):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def create(lam, role, name=None, source=ECHO):
    name = name or unique()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=role,
        Timeout=30,
        Code={"ZipFile": make_zip({"app.py": source})},
    )
    return name


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


def cannot_be_assumed(e):
    assert error_code(e) == "InvalidParameterValueException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Message"] == CANNOT


def test_create_function_refuses_a_role_lambda_cannot_assume(lam, iam):
    ec2_only = unique("ec2")
    iam.create_role(RoleName=ec2_only, AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))
    pathed = unique("pathed")
    arn = iam.create_role(
        RoleName=pathed, Path="/service/", AssumeRolePolicyDocument=trust("lambda.amazonaws.com")
    )["Role"]["Arn"]
    name = unique()
    for role in [
        f"arn:aws:iam::{ACCOUNT}:role/{unique('absent')}",
        f"arn:aws:iam::{ACCOUNT}:role/{ec2_only}",
        # The path is part of the role's ARN.
        f"arn:aws:iam::{ACCOUNT}:role/{pathed}",
    ]:
        with pytest.raises(ClientError) as e:
            create(lam, role, name)
        cannot_be_assumed(e)
    # Another account's role cannot even be passed.
    with pytest.raises(ClientError) as e:
        create(lam, f"arn:aws:iam::123456789012:role/{pathed}", name)
    assert error_code(e) == "AccessDeniedException"
    assert "iam:PassRole" in e.value.response["Error"]["Message"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    create(lam, arn, name)
    try:
        assert lam.get_function_configuration(FunctionName=name)["Role"] == arn
    finally:
        lam.delete_function(FunctionName=name)


def test_update_refuses_a_role_lambda_cannot_assume_and_changes_nothing(lam, iam):
    name = create(lam, ROLE)
    try:
        ec2_only = unique("ec2")
        iam.create_role(RoleName=ec2_only, AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))
        with pytest.raises(ClientError) as e:
            lam.update_function_configuration(
                FunctionName=name, Role=f"arn:aws:iam::{ACCOUNT}:role/{ec2_only}", Timeout=9
            )
        cannot_be_assumed(e)
        config = lam.get_function_configuration(FunctionName=name)
        assert (config["Role"], config["Timeout"]) == (ROLE, 30)
        # Once the trust names Lambda, the same update goes through.
        iam.update_assume_role_policy(
            RoleName=ec2_only, PolicyDocument=trust("lambda.amazonaws.com")
        )
        lam.update_function_configuration(
            FunctionName=name, Role=f"arn:aws:iam::{ACCOUNT}:role/{ec2_only}"
        )
    finally:
        lam.delete_function(FunctionName=name)


def test_a_function_whose_role_was_deleted_may_do_nothing(server, lam, iam):
    role = unique("gone")
    arn = server.ensure_role(role, EVERYTHING)
    name = create(lam, arn, source=LISTER)
    try:
        _, body = invoke(lam, name)
        assert "listed" in body, body
        iam.delete_role_policy(RoleName=role, PolicyName="all")
        iam.delete_role(RoleName=role)
        lam.update_function_configuration(FunctionName=name, Description="new environment")
        _, body = invoke(lam, name)
        assert body == {"error": "AccessDeniedException"}, body
    finally:
        lam.delete_function(FunctionName=name)


def doctor(server):
    out = subprocess.run(
        [LAMBENT, "doctor", "--data-dir", server.data_dir, "--endpoint", server.endpoint],
        capture_output=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode()


def test_an_upgrade_gives_functions_made_before_iam_roles_that_keep_their_access(fresh_server):
    s = fresh_server()
    lam, iam = s.client("lambda"), s.client("iam")
    # A data directory as an earlier lambent left it: one function runs as a role IAM never
    # held, another as a role of another account.
    s.ensure_role("before-iam", EVERYTHING)
    old = create(lam, f"arn:aws:iam::{ACCOUNT}:role/before-iam", source=LISTER)
    foreign = create(lam, f"arn:aws:iam::{ACCOUNT}:role/before-iam", source=LISTER)
    iam.delete_role_policy(RoleName="before-iam", PolicyName="all")
    iam.delete_role(RoleName="before-iam")
    s.stop()
    db = sqlite3.connect(os.path.join(s.data_dir, "lambent.db"))
    with db:
        (record,) = db.execute("SELECT record FROM functions WHERE name = ?", (foreign,)).fetchone()
        record = record.replace(
            f"arn:aws:iam::{ACCOUNT}:role/before-iam", "arn:aws:iam::123456789012:role/team/other"
        )
        db.execute("UPDATE functions SET record = ? WHERE name = ?", (record, foreign))
    db.close()
    upgrades = os.path.join(s.data_dir, "upgrades")
    with open(upgrades) as f:
        done = [line for line in f.read().splitlines() if line != "function-roles"]
    with open(upgrades, "w") as f:
        f.write("".join(line + "\n" for line in done))

    again = Server(s.data_dir).start()
    try:
        lam, iam = again.client("lambda"), again.client("iam")
        for name in (old, foreign):
            _, body = invoke(lam, name)
            assert "listed" in body, (name, body)
        moved = lam.get_function_configuration(FunctionName=foreign)["Role"]
        assert moved == f"arn:aws:iam::{ACCOUNT}:role/team/other"
        assert iam.get_role(RoleName="other")["Role"]["Path"] == "/team/"
        for role in ("before-iam", "other"):
            assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["lambent-upgrade"]
        report = doctor(again)
        assert f"arn:aws:iam::{ACCOUNT}:role/before-iam" in report, report
        assert f"upgraded: arn:aws:iam::{ACCOUNT}:role/before-iam" in report, report
        assert f"functions: {old}" in report and f"functions: {foreign}" in report, report
        # The user narrows the role: the upgrade, done once, never overrules that.
        iam.delete_role_policy(RoleName="before-iam", PolicyName="lambent-upgrade")
        again.stop()
        again.start()
        lam = again.client("lambda")
        _, body = invoke(lam, old)
        assert body == {"error": "AccessDeniedException"}, body
        assert "upgraded: arn:aws:iam::000000000000:role/before-iam" not in doctor(again)
    finally:
        again.stop()


def test_doctor_names_principals_allowed_everything(server, iam):
    admin, narrow = unique("admin"), unique("narrow")
    for name in (admin, narrow):
        iam.create_user(UserName=name)
    iam.attach_user_policy(
        UserName=admin, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.put_user_policy(
        UserName=narrow,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    report = doctor(server)
    assert f"arn:aws:iam::{ACCOUNT}:user/{admin}" in report, report
    assert f"user/{narrow}" not in report
    assert ROLE in report  # the tests' own role is allowed everything


def test_the_cli_creates_its_default_role_with_basic_permissions_only(server, iam, tmp_path):
    src = tmp_path / "app.py"
    src.write_text(ECHO)
    name = unique("cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run(
        [LAMBENT, "function", "create", name, "--code", str(src), "--runtime", "python3.12",
         "--handler", "app.handler", "--data-dir", server.data_dir,
         "--endpoint", server.endpoint],
        capture_output=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr.decode()
    lam = server.client("lambda")
    try:
        role = lam.get_function_configuration(FunctionName=name)["Role"]
        assert role == f"arn:aws:iam::{ACCOUNT}:role/lambent-function"
        attached = iam.list_attached_role_policies(RoleName="lambent-function")
        assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
            "AWSLambdaBasicExecutionRole"
        ]
        assert iam.list_role_policies(RoleName="lambent-function")["PolicyNames"] == []
        _, body = invoke(lam, name)
        assert body == {"ok": True}
    finally:
        lam.delete_function(FunctionName=name)


def test_a_roles_policy_can_name_the_function_calling_with_lambda_source_function_arn(
    server, lam, iam
):
    mine, other = unique("mine"), unique("other")
    role = unique("src")
    arn = server.ensure_role(role, json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "lambda:ListFunctions",
            "Resource": "*",
            "Condition": {"ArnEquals": {
                "lambda:SourceFunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{mine}"
            }},
        }],
    }))
    for name in (mine, other):
        create(lam, arn, name, source=LISTER)
    try:
        assert "listed" in invoke(lam, mine)[1]
        assert invoke(lam, other)[1] == {"error": "AccessDeniedException"}
    finally:
        for name in (mine, other):
            lam.delete_function(FunctionName=name)


def test_add_permission_is_authorized_with_the_principal_it_grants(server, lam, iam):
    fn = create(lam, ROLE)
    user = unique("granter")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "lambda:AddPermission",
            "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{fn}",
            "Condition": {"StringEquals": {"lambda:Principal": "s3.amazonaws.com"}},
        }],
    }))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    ulam = server.client("lambda", aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"])
    try:
        ulam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                            Principal="s3.amazonaws.com")
        with pytest.raises(ClientError) as e:
            ulam.add_permission(FunctionName=fn, StatementId="sns",
                                Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
        assert error_code(e) == "AccessDeniedException"
        statements = json.loads(lam.get_policy(FunctionName=fn)["Policy"])["Statement"]
        assert [s["Sid"] for s in statements] == ["s3"]
    finally:
        lam.delete_function(FunctionName=fn)


WRITER = """
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    out = {}
    for key in ("out/a.txt", "other/a.txt"):
        try:
            s3.put_object(Bucket=event["bucket"], Key=key, Body=b"x")
            out[key] = "written"
        except Exception as e:
            out[key] = e.response["Error"]["Code"]
    return out
"""


def test_a_function_may_write_only_where_its_role_allows_with_its_own_credentials(server, lam):
    s3 = server.client("s3")
    bucket = unique("roles")
    s3.create_bucket(Bucket=bucket)
    arn = server.ensure_role(unique("writer"), json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                       "Resource": f"arn:aws:s3:::{bucket}/out/*"}],
    }))
    fn = create(lam, arn, source=WRITER)
    try:
        _, body = invoke(lam, fn, {"bucket": bucket})
        assert body == {"out/a.txt": "written", "other/a.txt": "AccessDenied"}, body
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert keys == ["out/a.txt"]
    finally:
        lam.delete_function(FunctionName=fn)
        s3.delete_object(Bucket=bucket, Key="out/a.txt")
        s3.delete_bucket(Bucket=bucket)
