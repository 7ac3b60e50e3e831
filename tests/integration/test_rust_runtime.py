"""A bootstrap built with AWS's `lambda_runtime` crate runs unchanged as provided.al2023."""

import os

import pytest

from conftest import ROOT, invoke

BOOTSTRAP = os.path.join(ROOT, "target", "debug", "bootstrap")


@pytest.fixture(scope="module")
def rust_bootstrap():
    if not os.path.exists(BOOTSTRAP):
        pytest.fail(f"{BOOTSTRAP} is missing: scripts/test builds it (cargo build -p rust-echo)")
    with open(BOOTSTRAP, "rb") as f:
        return f.read()


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_lambda_runtime_crate_bootstrap(lam, function, rust_bootstrap, runtime):
    name = function({"bootstrap": (rust_bootstrap, 0o755)}, runtime=runtime, handler="bootstrap",
                    MemorySize=256)
    resp, body = invoke(lam, name, {"hello": "rust"})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert body["echo"] == {"hello": "rust"}
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert body["function_arn"].endswith(f":function:{name}")
    assert body["deadline_in_future"] is True
    assert body["function_name"] == name
    assert body["memory"] == 256
    # Warm: the same environment answers again.
    resp, body = invoke(lam, name, {"n": 2})
    assert body["echo"] == {"n": 2}


def test_lambda_runtime_crate_error(lam, function, rust_bootstrap):
    name = function({"bootstrap": (rust_bootstrap, 0o755)}, runtime="provided.al2023",
                    handler="bootstrap")
    resp, body = invoke(lam, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorMessage"] == "asked to fail"
    # The environment survives a handled error.
    resp, body = invoke(lam, name, {"ok": 1})
    assert body["echo"] == {"ok": 1}
