"""Provisioned concurrency: environments kept initialized for a published version or alias."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, invoke, log_tail, status

APP = """
import os
def handler(event, context):
    return {"init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "version": context.function_version}
"""


def wait_ready(lam, name, qualifier, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        cfg = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if cfg["Status"] == "READY":
            return cfg
        time.sleep(0.1)
    raise AssertionError(f"not READY: {cfg}")


def test_provisioned_lifecycle(lam, function):
    name = function({"app.py": APP})
    v1 = lam.publish_version(FunctionName=name)["Version"]
    put = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=v1, ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] == "IN_PROGRESS"
    cfg = wait_ready(lam, name, v1)
    assert cfg["AvailableProvisionedConcurrentExecutions"] == 2
    assert cfg["AllocatedProvisionedConcurrentExecutions"] == 2
    # The environment was initialized ahead of the call: no cold start in this invoke.
    resp, body = invoke(lam, name, {}, Qualifier=v1, LogType="Tail")
    assert body == {"init": "provisioned-concurrency", "version": v1}
    assert "Init Duration" not in log_tail(resp)
    # $LATEST is on demand.
    resp, body = invoke(lam, name, {})
    assert body["init"] == "on-demand"
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == [v1]
    # Still there after the keep-alive would have reaped on-demand environments? The shared
    # server keeps them 300 s; provisioned ones are never reaped, so they stay READY.
    assert wait_ready(lam, name, v1)["Status"] == "READY"
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=v1)
    with pytest.raises(ClientError) as e:
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=v1)
    assert error_code(e) == "ProvisionedConcurrencyConfigNotFoundException"
    assert status(e) == 404


def test_provisioned_through_an_alias(lam, function):
    name = function({"app.py": APP})
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    wait_ready(lam, name, "live")
    resp, body = invoke(lam, name, {}, Qualifier="live")
    assert body["init"] == "provisioned-concurrency"
    # The version behind the alias is already provisioned.
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier=v1, ProvisionedConcurrentExecutions=1)
    assert error_code(e) == "ResourceConflictException"
    assert status(e) == 409


def test_provisioned_errors(lam, function):
    name = function({"app.py": APP})
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    assert error_code(e) == "InvalidParameterValueException"
    assert "unpublished function versions" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="noalias")
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"].startswith("Cannot find alias arn: ")
    with pytest.raises(ClientError) as e:
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="10")
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"].endswith(f":function:{name}:10")
    v1 = lam.publish_version(FunctionName=name)["Version"]
    with pytest.raises(ClientError) as e:
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=v1)
    assert error_code(e) == "ProvisionedConcurrencyConfigNotFoundException"


def test_provisioned_environments_come_back_after_restart(fresh_server):
    from conftest import ROLE, Server, make_zip, unique
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("prov")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": APP})}, Publish=True)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    wait_ready(lam, name, "1")
    s.stop()
    again = Server(s.data_dir).start()
    try:
        lam = again.client("lambda")
        assert wait_ready(lam, name, "1")["AvailableProvisionedConcurrentExecutions"] == 1
    finally:
        again.stop()
