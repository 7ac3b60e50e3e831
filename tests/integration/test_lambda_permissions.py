"""Lambda resource policies: AddPermission, GetPolicy and RemovePermission per function,
version and alias, with AWS's documents, codes, statuses and messages.

Expected shapes and messages come from real AWS responses recorded by LocalStack, the excerpt
in tests/data/aws-recorded/lambda__test_lambda_api.snapshot.json (see its README).
"""

import json
import os

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, Server, error_code, make_zip, status, unique

APP = {"app.py": "def handler(event, context):\n    return event\n"}
ACCOUNT = "000000000000"
REGION = "us-east-1"
NO_RESOURCE = "The resource you requested does not exist."
RECORDED = os.path.join(
    os.path.dirname(__file__), "..", "data", "aws-recorded", "lambda__test_lambda_api.snapshot.json"
)


def recorded(test):
    with open(RECORDED) as f:
        data = json.load(f)
    return next(v for k, v in data.items() if k.endswith("::" + test))["recorded-content"]


def arn(name, qualifier=None):
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def check(excinfo, status_code, code, message):
    resp = excinfo.value.response
    assert (status(excinfo), error_code(excinfo)) == (status_code, code), resp
    assert resp["Error"]["Message"] == message


def normalised(value, name):
    """lambent's answer with LocalStack's normalisation applied, to compare with a recording."""
    text = json.dumps(value)
    text = text.replace(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                        "arn:<partition>:lambda:<region>:111111111111:function:<resource:1>")
    return json.loads(text.replace(ACCOUNT, "111111111111"))


def policy(lam, name, **kw):
    got = lam.get_policy(FunctionName=name, **kw)
    return json.loads(got["Policy"]), got["RevisionId"]


def test_service_permission_with_source_arn_and_account(lam, function):
    name = function(APP)
    added = lam.add_permission(
        FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket", SourceAccount=ACCOUNT)
    statement = {
        "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": arn(name),
        "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                      "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}},
    }
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == statement
    doc, revision = policy(lam, name)
    assert doc == {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}
    # AWS's key order, as the recording's.
    raw = lam.get_policy(FunctionName=name)["Policy"]
    assert raw.startswith('{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3","Effect"')
    assert list(json.loads(raw)["Statement"][0]["Condition"]) == ["StringEquals", "ArnLike"]
    assert revision


def test_principals_match_the_recorded_statements(lam, function):
    rec = recorded("test_add_lambda_permission_fields")
    name = function(APP)
    wildcard = lam.add_permission(FunctionName=name, StatementId="wilcard", Action="lambda:InvokeFunction",
                                  Principal="*", SourceAccount=ACCOUNT)
    assert normalised(json.loads(wildcard["Statement"]), name) == rec["add_permission_principal_wildcard"]["Statement"]
    service = lam.add_permission(FunctionName=name, StatementId="lambda", Action="lambda:InvokeFunction",
                                 Principal="lambda.amazonaws.com", SourceAccount=ACCOUNT)
    assert normalised(json.loads(service["Statement"]), name) == rec["add_permission_principal_service"]["Statement"]
    account = lam.add_permission(FunctionName=name, StatementId="account-id", Action="lambda:InvokeFunction",
                                 Principal="123456789012")
    assert json.loads(account["Statement"])["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert set(json.loads(account["Statement"])) == set(rec["add_permission_principal_account"]["Statement"])
    url = lam.add_permission(
        FunctionName=name, StatementId="urlPermission", Action="lambda:InvokeFunctionUrl", Principal="*",
        SourceArn="arn:aws:s3:::bucket", SourceAccount=ACCOUNT, PrincipalOrgID="o-1234567890",
        FunctionUrlAuthType="NONE")
    want = rec["add_permission_optional_fields"]["Statement"]
    want["Condition"]["ArnLike"]["AWS:SourceArn"] = "arn:aws:s3:::bucket"
    assert normalised(json.loads(url["Statement"]), name) == want
    assert json.dumps(normalised(json.loads(url["Statement"]), name)) == json.dumps(want)
    alexa = lam.add_permission(FunctionName=name, StatementId="alexaSkill", Action="lambda:InvokeFunction",
                               Principal="*",
                               EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
    assert normalised(json.loads(alexa["Statement"]), name) == rec["add_permission_alexa_skill"]["Statement"]
    doc, _ = policy(lam, name)
    assert [s["Sid"] for s in doc["Statement"]] == ["wilcard", "lambda", "account-id", "urlPermission", "alexaSkill"]


def test_qualified_permission_on_an_alias_and_a_version(lam, function):
    name = function(APP)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.add_permission(FunctionName=name, Qualifier="live", StatementId="a", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com")
    doc, _ = policy(lam, name, Qualifier="live")
    assert doc["Statement"][0]["Resource"] == arn(name, "live")
    # The alias's policy is its own: none on the function or on the version.
    for kw in ({}, {"Qualifier": version}):
        with pytest.raises(ClientError) as e:
            lam.get_policy(FunctionName=name, **kw)
        check(e, 404, "ResourceNotFoundException", NO_RESOURCE)
    # A qualified ARN as the name works too.
    lam.add_permission(FunctionName=arn(name, version), StatementId="v", Action="lambda:*", Principal="*")
    doc, _ = policy(lam, name, Qualifier=version)
    assert doc["Statement"][0]["Resource"] == arn(name, version)
    # Publishing copies no policy; deleting the alias deletes its policy.
    lam.add_permission(FunctionName=name, StatementId="l", Action="lambda:InvokeFunction", Principal="*")
    # A permission is no change to publish: the unchanged $LATEST publishes as its version.
    assert lam.publish_version(FunctionName=name)["Version"] == version
    lam.update_function_configuration(FunctionName=name, Description="changed")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    v2 = lam.publish_version(FunctionName=name)["Version"]
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name, Qualifier=v2)
    check(e, 404, "ResourceNotFoundException", NO_RESOURCE)
    lam.delete_alias(FunctionName=name, Name="live")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name, Qualifier="live")
    check(e, 404, "ResourceNotFoundException", NO_RESOURCE)


def test_errors_match_the_recordings(lam, function):
    rec = recorded("test_permission_exceptions")
    name = function(APP)
    base = dict(Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")

    def same(e, step):
        want = rec[step]
        assert (status(e), error_code(e)) == (want["ResponseMetadata"]["HTTPStatusCode"], want["Error"]["Code"])
        got = e.value.response["Error"]["Message"].replace(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                                                           "arn:<partition>:lambda:<region>:111111111111:function:<function-name>")
        got = got.replace(f"arn:aws:lambda:{REGION}:{ACCOUNT}:", "arn:<partition>:lambda:<region>:111111111111:")
        assert got == want["Error"]["Message"]

    cases = [
        ("add_permission_invalid_statement_id", dict(FunctionName=name, StatementId="example.com", **base)),
        ("add_permission_fn_qualifier_mismatch", dict(FunctionName=f"{name}:v1", Qualifier="v2", StatementId="s", **base)),
        ("add_permission_fn_qualifier_latest", dict(FunctionName=name, Qualifier="$LATEST", StatementId="s", **base)),
        ("add_permission_principal_invalid", dict(FunctionName=name, StatementId="s", Action="lambda:InvokeFunction", Principal="invalid")),
        ("add_permission_fn_doesnotexist", dict(FunctionName="doesnotexist", StatementId="s", **base)),
        ("add_permission_fn_alias_doesnotexist", dict(FunctionName=name, Qualifier="alias-doesnotexist", StatementId="s", **base)),
        ("add_permission_fn_version_doesnotexist", dict(FunctionName=name, Qualifier="42", StatementId="s", **base)),
        ("add_permission_fn_qualifier_invalid", dict(FunctionName=name, Qualifier="invalid-qualifier-with-?-char", StatementId="s", **base)),
        ("add_permission_fn_qualifier_valid_doesnotexist", dict(FunctionName=name, Qualifier="valid-with-$-but-doesnotexist", StatementId="s", **base)),
    ]
    for step, kw in cases:
        with pytest.raises(ClientError) as e:
            lam.add_permission(**kw)
        same(e, step)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName="doesnotexist")
    same(e, "get_policy_fn_doesnotexist")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name, Qualifier="42")
    same(e, "get_policy_fn_version_doesnotexist")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="s3")
    same(e, "remove_permission_policy_doesnotexist")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName="doesnotexist", StatementId="s3")
    same(e, "remove_permission_fn_doesnotexist")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="s3", Qualifier="alias-doesnotexist")
    same(e, "remove_permission_fn_alias_doesnotexist")
    lam.add_permission(FunctionName=name, StatementId="s3", **base)
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="s3", **base)
    same(e, "add_permission_conflicting_statement_id")


def test_remove_and_get_without_policy(lam, function):
    rec = recorded("test_remove_multi_permissions")
    name = function(APP)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    check(e, 404, "ResourceNotFoundException", NO_RESOURCE)
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    lam.add_permission(FunctionName=name, StatementId="sqs", Action="lambda:InvokeFunction",
                       Principal="sqs.amazonaws.com", SourceArn="arn:aws:s3:::bucket")
    doc, first = policy(lam, name)
    want = rec["policy_after_2_add"]["Policy"]
    want["Statement"][1]["Condition"]["ArnLike"]["AWS:SourceArn"] = "arn:aws:s3:::bucket"
    assert normalised(doc, name) == want
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="non-existent")
    check(e, 404, "ResourceNotFoundException", rec["remove_permission_exception_nonexisting_sid"]["Error"]["Message"])
    removed = lam.remove_permission(FunctionName=name, StatementId="sqs")
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    doc, second = policy(lam, name)
    assert normalised(doc, name) == rec["policy_after_removal"]["Policy"]
    assert second != first
    lam.remove_permission(FunctionName=name, StatementId="s3")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    check(e, 404, "ResourceNotFoundException", rec["get_policy_exception_removed_all"]["Error"]["Message"])


def test_revision_ids(lam, function):
    name = function(APP)
    lam.add_permission(FunctionName=name, StatementId="a", Action="lambda:InvokeFunction", Principal="*")
    _, revision = policy(lam, name)
    # The function's RevisionId moves with its policy, as on AWS.
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] == revision
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="b", Action="lambda:InvokeFunction",
                           Principal="*", RevisionId="00000000-0000-0000-0000-000000000000")
    assert (status(e), error_code(e)) == (412, "PreconditionFailedException")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="a", RevisionId="stale")
    assert (status(e), error_code(e)) == (412, "PreconditionFailedException")
    lam.add_permission(FunctionName=name, StatementId="b", Action="lambda:InvokeFunction",
                       Principal="*", RevisionId=revision)
    _, newer = policy(lam, name)
    lam.remove_permission(FunctionName=name, StatementId="a", RevisionId=newer)
    assert [s["Sid"] for s in policy(lam, name)[0]["Statement"]] == ["b"]


def test_policy_size_limit_and_bad_input(lam, function):
    name = function(APP)
    with pytest.raises(ClientError) as e:
        for i in range(200):
            lam.add_permission(FunctionName=name, StatementId=f"s{i:03d}-" + "x" * 90,
                               Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                               SourceArn="arn:aws:s3:::" + "b" * 60)
    assert (status(e), error_code(e)) == (400, "PolicyLengthExceededException")
    assert len(lam.get_policy(FunctionName=name)["Policy"]) <= 20480
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="ok", Action="s3:GetObject", Principal="*")
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="ok", Action="lambda:InvokeFunction",
                           Principal="*", SourceAccount="12")
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="s" * 101, Action="lambda:InvokeFunction",
                           Principal="*")
    check(e, 400, "ValidationException",
          f"1 validation error detected: Value '{'s' * 101}' at 'statementId' failed to satisfy "
          "constraint: Member must have length less than or equal to 100")
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl",
                           Principal="*", FunctionUrlAuthType="SOMETIMES")
    assert (status(e), error_code(e)) == (400, "ValidationException")


def test_deleted_with_the_function(lam, function):
    name = function(APP)
    lam.add_permission(FunctionName=name, StatementId="a", Action="lambda:InvokeFunction", Principal="*")
    lam.delete_function(FunctionName=name)
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": make_zip(APP)})
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    check(e, 404, "ResourceNotFoundException", NO_RESOURCE)


def test_policy_survives_restart(fresh_server):
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("perm")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": make_zip(APP)})
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket")
    before = lam.get_policy(FunctionName=name)
    s.stop()
    again = Server(s.data_dir).start()
    try:
        after = again.client("lambda").get_policy(FunctionName=name)
        assert (after["Policy"], after["RevisionId"]) == (before["Policy"], before["RevisionId"])
    finally:
        again.stop()


def test_aws_cli_add_permission(server, function):
    name = function(APP)
    out = server.aws("lambda", "add-permission", "--function-name", name, "--statement-id", "cli",
                     "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
                     "--source-arn", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r")
    statement = json.loads(json.loads(out.stdout)["Statement"])
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r"}}
