"""Event invoke configs (asynchronous invocation settings): Put, Update, Get, Delete and List
per $LATEST, version and alias, with AWS's codes, statuses and messages.

Expected values come from real AWS responses recorded by LocalStack
(/work/shared/spec/data/aws-recorded/lambda__test_lambda_api.snapshot.json, keys
`TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions` and
`::test_lambda_eventinvokeconfig_lifecycle`, cited below by step name) and botocore's model.
"""

import json
import os
import subprocess

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ROOT, Server, error_code, make_zip, status, unique, ROLE

APP = {"app.py": "def handler(event, context):\n    return event\n"}
EMPTY_DESTINATIONS = {"OnFailure": {}, "OnSuccess": {}}
NO_FUNCTION = "The function doesn't exist."
NO_SETTINGS = "You must specify at least one of error handling or destination setting."
CONFLICT = "The derived qualifier from the function name does not match the specified qualifier."
DESTINATION_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)


def check(excinfo, status_code, code, message):
    resp = excinfo.value.response
    assert (status(excinfo), error_code(excinfo)) == (status_code, code), resp
    assert resp["Error"]["Message"] == message


def no_config(arn):
    return f"The function {arn} doesn't have an EventInvokeConfig"


def unmetadata(resp):
    return {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "LastModified")}


@pytest.fixture(scope="module")
def raw(server):
    """A client without botocore's own parameter checks, so the server sees bad input."""
    key, secret = server.credentials()
    return boto3.client(
        "lambda", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=botocore.config.Config(parameter_validation=False,
                                      retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def fn(function, lam):
    """A new function: (name, unqualified ARN)."""
    name = function(APP)
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return name, arn


def published(lam, name):
    v = lam.publish_version(FunctionName=name)["Version"]
    alias = lam.create_alias(FunctionName=name, Name="eventinvokealias", FunctionVersion=v)
    return v, alias["AliasArn"]


# --------------------------------------------------------------------------- lifecycle


def test_lifecycle(lam, fn):
    """test_lambda_eventinvokeconfig_lifecycle, step by step."""
    name, arn = fn
    latest = f"{arn}:$LATEST"

    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert unmetadata(put) == {
        "DestinationConfig": EMPTY_DESTINATIONS, "FunctionArn": latest, "MaximumRetryAttempts": 0,
    }
    # Put replaces the whole configuration: the retries are gone.
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert unmetadata(put) == {
        "DestinationConfig": EMPTY_DESTINATIONS, "FunctionArn": latest,
        "MaximumEventAgeInSeconds": 60,
    }
    upd = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert upd["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert unmetadata(upd) == unmetadata(put)
    # Update merges.
    upd = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    expected = {
        "DestinationConfig": EMPTY_DESTINATIONS, "FunctionArn": latest,
        "MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 1,
    }
    assert unmetadata(upd) == expected
    assert upd["LastModified"] >= put["LastModified"]
    assert unmetadata(lam.get_function_event_invoke_config(FunctionName=name)) == expected
    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")
    assert unmetadata(got) == expected
    assert got["LastModified"] == upd["LastModified"]
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert [unmetadata(c) for c in listed["FunctionEventInvokeConfigs"]] == [expected]
    assert "NextMarker" not in listed

    # Publishing does not copy $LATEST's configuration to the version.
    v = lam.publish_version(FunctionName=name)["Version"]
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier=v)
    check(e, 404, "ResourceNotFoundException", no_config(f"{arn}:{v}"))

    put = lam.put_function_event_invoke_config(
        FunctionName=name, Qualifier=v, MaximumEventAgeInSeconds=120)
    versioned = {
        "DestinationConfig": EMPTY_DESTINATIONS, "FunctionArn": f"{arn}:{v}",
        "MaximumEventAgeInSeconds": 120,
    }
    assert unmetadata(put) == versioned
    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier=v)
    assert unmetadata(got) == versioned

    first = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=1)
    assert len(first["FunctionEventInvokeConfigs"]) == 1
    rest = lam.list_function_event_invoke_configs(
        FunctionName=name, MaxItems=1, Marker=first["NextMarker"])
    assert len(rest["FunctionEventInvokeConfigs"]) == 1
    assert "NextMarker" not in rest
    every = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in every] == [latest, f"{arn}:{v}"]
    assert [c["FunctionArn"] for c in first["FunctionEventInvokeConfigs"]
            + rest["FunctionEventInvokeConfigs"]] == [latest, f"{arn}:{v}"]

    deleted = lam.delete_function_event_invoke_config(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    after = lam.list_function_event_invoke_configs(FunctionName=name)
    assert [unmetadata(c) for c in after["FunctionEventInvokeConfigs"]] == [versioned]


def test_wire_shape(lam, fn):
    """LastModified is epoch seconds as a JSON number; DestinationConfig is always there."""
    name, arn = fn
    bodies = []

    def keep(http_response, model, **_):
        if "EventInvokeConfig" in model.name:
            bodies.append(json.loads(http_response.content))

    lam.meta.events.register("after-call.lambda", keep, unique_id="eic-wire-shape")
    try:
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2)
        lam.get_function_event_invoke_config(FunctionName=name)
        lam.list_function_event_invoke_configs(FunctionName=name)
    finally:
        lam.meta.events.unregister("after-call.lambda", unique_id="eic-wire-shape")
    put, got, listed = bodies
    assert put == got == listed["FunctionEventInvokeConfigs"][0]
    assert set(put) == {"DestinationConfig", "FunctionArn", "LastModified", "MaximumRetryAttempts"}
    assert put["DestinationConfig"] == EMPTY_DESTINATIONS
    assert put["FunctionArn"] == f"{arn}:$LATEST"
    assert isinstance(put["LastModified"], float)
    assert set(listed) == {"FunctionEventInvokeConfigs"}


def test_qualifier_spellings(lam, fn):
    """The FunctionName & Qualifier steps of test_lambda_eventinvokeconfig_exceptions."""
    name, arn = fn
    v, alias_arn = published(lam, name)
    alias = "eventinvokealias"

    def put(**kwargs):
        resp = lam.put_function_event_invoke_config(MaximumRetryAttempts=1, **kwargs)
        assert resp["MaximumRetryAttempts"] == 1
        return resp["FunctionArn"]

    assert put(FunctionName=name) == f"{arn}:$LATEST"  # put_destination_latest
    assert put(FunctionName=name, Qualifier="$LATEST") == f"{arn}:$LATEST"
    assert put(FunctionName=name, Qualifier=v) == f"{arn}:{v}"  # put_destination_version
    assert put(FunctionName=name, Qualifier=alias) == alias_arn
    assert put(FunctionName=alias_arn) == alias_arn  # put_alias_qualifiedarn
    assert put(FunctionName=alias_arn, Qualifier=alias) == alias_arn
    assert put(FunctionName=f"{name}:{alias}") == alias_arn  # put_alias_shorthand
    assert put(FunctionName=f"{name}:{alias}", Qualifier=alias) == alias_arn
    assert put(FunctionName=f"{name}:{v}") == f"{arn}:{v}"  # put_version_shorthand
    assert put(FunctionName=f"{name}:$LATEST", Qualifier="$LATEST") == f"{arn}:$LATEST"

    # put_alias_doesnotexist, and a version that does not exist.
    for q in (f"{alias}doesnotexist", "1221"):
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(
                FunctionName=name, Qualifier=q, MaximumRetryAttempts=1)
        check(e, 404, "ResourceNotFoundException", NO_FUNCTION)

    # put_alias_*_qualifierconflict and put_shorthand_qualifier_mismatch_1..3
    for fname, q in [
        (alias_arn, f"{alias}doesnotexist"),
        (f"{name}:{alias}", f"{alias}doesnotexist"),
        (f"{name}:{v}", "$LATEST"),
        (f"{name}:$LATEST", v),
        (f"{name}:{v}", alias),
    ]:
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(
                FunctionName=fname, Qualifier=q, MaximumRetryAttempts=1)
        check(e, 400, "InvalidParameterValueException", CONFLICT)

    # list_configs: one per qualifier; MaxItems pages.
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [
        f"{arn}:$LATEST", f"{arn}:{v}", alias_arn,
    ]
    for c in listed["FunctionEventInvokeConfigs"]:
        assert c["DestinationConfig"] == EMPTY_DESTINATIONS
        assert c["MaximumRetryAttempts"] == 1
    paged = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(paged["FunctionEventInvokeConfigs"]) == 2
    assert paged["NextMarker"]

    for q in ("$LATEST", v, alias):  # delete_latest, delete_version, delete_alias
        resp = lam.delete_function_event_invoke_config(FunctionName=name, Qualifier=q)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert listed["FunctionEventInvokeConfigs"] == []

    # delete_function_not_found, get_eventinvokeconfig_doesnotexist and the two update steps.
    with pytest.raises(ClientError) as e:
        lam.delete_function_event_invoke_config(FunctionName=name)
    check(e, 404, "ResourceNotFoundException", no_config(f"{arn}:$LATEST"))
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=alias_arn)
    check(e, 404, "ResourceNotFoundException", no_config(alias_arn))
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(FunctionName=alias_arn, MaximumRetryAttempts=0)
    check(e, 404, "ResourceNotFoundException", no_config(alias_arn))
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(FunctionName=arn, MaximumRetryAttempts=0)
    check(e, 404, "ResourceNotFoundException", no_config(f"{arn}:$LATEST"))


def test_put_overwrites_and_update_merges(lam, fn):
    """put_maxevent_maxvalue_result through update_response_existing."""
    name, _ = fn
    put = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=21600)
    assert (put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (2, 21600)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60)
    for _ in range(2):
        put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        assert put["MaximumRetryAttempts"] == 0
        assert "MaximumEventAgeInSeconds" not in put
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == 0
    assert "MaximumEventAgeInSeconds" not in got

    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60)
    for _ in range(2):
        upd = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        assert (upd["MaximumRetryAttempts"], upd["MaximumEventAgeInSeconds"]) == (0, 60)
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 60)


# --------------------------------------------------------------------------- errors


def test_missing_function_and_settings(lam, fn, raw):
    name, arn = fn
    account = arn.split(":")[4]
    fake_arn = f"arn:aws:lambda:us-east-1:{account}:function:doesnotexist"
    # put_functionname_name_notfound, put_functionname_arn_notfound
    for fname in ("doesnotexist", fake_arn):
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(FunctionName=fname, MaximumRetryAttempts=1)
        check(e, 404, "ResourceNotFoundException", NO_FUNCTION)
    # put_functionname_nootherargs: checked before the function's existence.
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName="doesnotexist")
    check(e, 400, "InvalidParameterValueException", NO_SETTINGS)
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name)
    check(e, 400, "InvalidParameterValueException", NO_SETTINGS)

    missing = fake_arn + ":$LATEST"
    with pytest.raises(ClientError) as e:  # delete_function_doesnotexist
        lam.delete_function_event_invoke_config(FunctionName="doesnotexist")
    check(e, 404, "ResourceNotFoundException", no_config(missing))
    with pytest.raises(ClientError) as e:  # list_function_doesnotexist
        lam.list_function_event_invoke_configs(FunctionName="doesnotexist")
    check(e, 404, "ResourceNotFoundException", NO_FUNCTION)
    with pytest.raises(ClientError) as e:  # get_function_doesnotexist
        lam.get_function_event_invoke_config(FunctionName="doesnotexist")
    check(e, 404, "ResourceNotFoundException", no_config(missing))
    with pytest.raises(ClientError) as e:  # get_qualifier_doesnotexist
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="doesnotexist")
    check(e, 404, "ResourceNotFoundException", no_config(f"{arn}:doesnotexist"))
    with pytest.raises(ClientError) as e:  # test_ops_on_nonexisting_version
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="1221")
    check(e, 404, "ResourceNotFoundException", no_config(f"{arn}:1221"))
    with pytest.raises(ClientError) as e:  # update_eventinvokeconfig_function_doesnotexist
        lam.update_function_event_invoke_config(FunctionName="doesnotexist", MaximumRetryAttempts=0)
    check(e, 404, "ResourceNotFoundException", NO_FUNCTION)
    with pytest.raises(ClientError) as e:  # test_get_function_wrong_region
        lam.get_function_event_invoke_config(FunctionName=arn.replace("us-east-1", "eu-west-1"))
    check(e, 404, "ResourceNotFoundException",
          "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')")


def test_destinations(lam, raw, fn, function):
    name, arn = fn
    other = function(APP)
    other_arn = arn.replace(f":function:{name}", f":function:{other}")
    fake_arn = arn.replace(f":function:{name}", ":function:doesnotexist")

    with pytest.raises(ClientError) as e:  # put_destination_lambda_doesntexist
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": fake_arn}})
    check(e, 400, "InvalidParameterValueException", f"The destination ARN {fake_arn} is invalid.")
    for own in (arn, f"{arn}:$LATEST"):  # put_destination_recursive
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": own}})
        check(e, 400, "InvalidParameterValueException",
              "You can't specify the function as a destination for itself.")
    with pytest.raises(ClientError) as e:  # a version of another function that does not exist
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": f"{other_arn}:7"}})
    check(e, 400, "InvalidParameterValueException", f"The destination ARN {other_arn}:7 is invalid.")

    put = lam.put_function_event_invoke_config(  # put_destination_other_lambda
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": other_arn}})
    assert put["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {"Destination": other_arn}}
    assert put["FunctionArn"] == f"{arn}:$LATEST"
    assert "MaximumRetryAttempts" not in put and "MaximumEventAgeInSeconds" not in put

    iam = arn.replace(":lambda:", ":iam:")
    with pytest.raises(ClientError) as e:  # put_destination_invalid_service_arn
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": iam}})
    check(e, 400, "InvalidParameterValueException",
          f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={iam}),"
          " onFailure=null) is invalid.")
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(
            FunctionName=name,
            DestinationConfig={"OnSuccess": {}, "OnFailure": {"Destination": iam}})
    check(e, 400, "InvalidParameterValueException",
          "The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=null),"
          f" onFailure=OnFailure(destination={iam})) is invalid.")

    for side in ("OnSuccess", "OnFailure"):  # put_destination_*_no_destination_arn
        put = lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={side: {}})
        assert put["DestinationConfig"] == EMPTY_DESTINATIONS
        assert "MaximumRetryAttempts" not in put

    bad = arn.replace(":lambda:", ":_-/!lambda:")
    with pytest.raises(ClientError) as e:  # put_destination_invalid_arn_pattern
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": bad}})
    check(e, 400, "ValidationException",
          f"1 validation error detected: Value '{bad}' at 'destinationConfig.onFailure.destination'"
          f" failed to satisfy constraint: Member must satisfy regular expression pattern: "
          f"{DESTINATION_PATTERN}")
    assert "Type" not in e.value.response  # as recorded: ValidationException carries no Type
    with pytest.raises(ClientError) as e:
        raw.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": "queue"}})
    assert e.value.response["Error"]["Message"].startswith(
        "1 validation error detected: Value 'queue' at 'destinationConfig.onSuccess.destination'")

    # Queues, topics and event buses are accepted and kept, as on AWS (lambent does not
    # deliver to them yet).
    account = arn.split(":")[4]
    queue = f"arn:aws:sqs:us-east-1:{account}:failures"
    topic = f"arn:aws:sns:us-east-1:{account}:successes"
    bus = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    put = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": topic}, "OnFailure": {"Destination": queue}})
    assert put["DestinationConfig"] == {
        "OnSuccess": {"Destination": topic}, "OnFailure": {"Destination": queue}}
    # Update replaces the DestinationConfig it is given and keeps the rest.
    upd = lam.update_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": bus}})
    assert upd["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": bus}}
    assert upd["MaximumRetryAttempts"] == 0
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert unmetadata(got) == unmetadata(upd)
    # Update checks destinations as Put does.
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}})
    check(e, 400, "InvalidParameterValueException",
          "You can't specify the function as a destination for itself.")


def test_range_validation(raw, lam, fn):
    name, _ = fn
    cases = [
        ({"MaximumRetryAttempts": 3}, "'3' at 'maximumRetryAttempts'",
         "Member must have value less than or equal to 2"),
        ({"MaximumRetryAttempts": -1}, "'-1' at 'maximumRetryAttempts'",
         "Member must have value greater than or equal to 0"),
        ({"MaximumEventAgeInSeconds": 59}, "'59' at 'maximumEventAgeInSeconds'",
         "Member must have value greater than or equal to 60"),
        ({"MaximumEventAgeInSeconds": 21601}, "'21601' at 'maximumEventAgeInSeconds'",
         "Member must have value less than or equal to 21600"),
    ]
    for kwargs, where, constraint in cases:
        for call in (raw.put_function_event_invoke_config,
                     raw.update_function_event_invoke_config):
            with pytest.raises(ClientError) as e:
                call(FunctionName=name, **kwargs)
            check(e, 400, "ValidationException",
                  f"1 validation error detected: Value {where} failed to satisfy constraint: "
                  f"{constraint}")
    with pytest.raises(ClientError) as e:
        raw.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=5, MaximumEventAgeInSeconds=10)
    check(e, 400, "ValidationException",
          "2 validation errors detected: Value '5' at 'maximumRetryAttempts' failed to satisfy "
          "constraint: Member must have value less than or equal to 2; Value '10' at "
          "'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value "
          "greater than or equal to 60")
    with pytest.raises(ClientError) as e:
        raw.list_function_event_invoke_configs(FunctionName=name, MaxItems=51)
    check(e, 400, "ValidationException",
          "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: "
          "Member must have value less than or equal to 50")
    # Nothing was stored by the refused calls.
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"


def test_configs_go_with_the_function_and_alias(lam, fn):
    name, arn = fn
    v, alias_arn = published(lam, name)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.put_function_event_invoke_config(FunctionName=alias_arn, MaximumRetryAttempts=0)
    lam.delete_alias(FunctionName=name, Name="eventinvokealias")
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [f"{arn}:$LATEST"]
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=alias_arn)
    check(e, 404, "ResourceNotFoundException", no_config(alias_arn))

    lam.delete_function(FunctionName=name)
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip(APP)})
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    check(e, 404, "ResourceNotFoundException", no_config(f"{arn}:$LATEST"))


def test_config_survives_restart(fresh_server):
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("eic")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip(APP)})
    put = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=300, MaximumRetryAttempts=1)
    s.stop()
    again = Server(s.data_dir).start()
    try:
        got = again.client("lambda").get_function_event_invoke_config(FunctionName=name)
        assert unmetadata(got) == unmetadata(put)
        assert got["LastModified"] == put["LastModified"]
    finally:
        again.stop()


# --------------------------------------------------------------------------- aws CLI


def aws_cli(server, *args):
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
    return subprocess.run(
        [aws if os.path.exists(aws) else "aws", "--output", "json", "lambda", *args],
        env=server.aws_env(), capture_output=True, timeout=120,
    )


def test_aws_cli(server, fn):
    name, arn = fn
    out = aws_cli(
        server, "put-function-event-invoke-config", "--function-name", name,
        "--maximum-retry-attempts", "1", "--maximum-event-age-in-seconds", "3600",
        "--destination-config", json.dumps({"OnFailure": {"Destination": f"{arn}-dlq"}}),
    )
    # The destination function does not exist.
    assert out.returncode != 0
    err = out.stderr.decode()
    assert "InvalidParameterValueException" in err
    assert f"The destination ARN {arn}-dlq is invalid." in err

    out = aws_cli(
        server, "put-function-event-invoke-config", "--function-name", name,
        "--maximum-retry-attempts", "1", "--maximum-event-age-in-seconds", "3600",
    )
    assert out.returncode == 0, out.stderr.decode()
    put = json.loads(out.stdout)
    assert put["FunctionArn"] == f"{arn}:$LATEST"
    assert (put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (1, 3600)
    assert put["DestinationConfig"] == EMPTY_DESTINATIONS

    out = aws_cli(server, "list-function-event-invoke-configs", "--function-name", name)
    assert out.returncode == 0, out.stderr.decode()
    assert [c["FunctionArn"] for c in json.loads(out.stdout)["FunctionEventInvokeConfigs"]] == [
        f"{arn}:$LATEST"]

    out = aws_cli(server, "delete-function-event-invoke-config", "--function-name", name)
    assert out.returncode == 0, out.stderr.decode()
    out = aws_cli(server, "get-function-event-invoke-config", "--function-name", name)
    assert out.returncode != 0
    assert "ResourceNotFoundException" in out.stderr.decode()
    assert no_config(f"{arn}:$LATEST") in out.stderr.decode()
