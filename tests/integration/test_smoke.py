"""The README's promise: each runtime's example returns 30, through boto3 and the CLIs."""

import os
import re
import subprocess

from conftest import LAMBENT, invoke, log_tail


def test_examples_return_30(fresh_server):
    s = fresh_server("--examples")
    lam = s.client("lambda")
    for name in ("sum-python", "sum-node"):
        resp, body = invoke(lam, name, {"value1": 10, "value2": 20})
        assert resp["StatusCode"] == 200
        assert "FunctionError" not in resp
        assert body == 30
    # The runtimes' SDK cache (the tests' own, see conftest) has boto3, which the thumbnails
    # example imports, as AWS's Python runtime includes it.
    with open(s.log_path, errors="replace") as f:
        assert re.search(r"Python SDK: boto3 \S+ for Python 3\.10\+: installed at ", f.read())


def test_lambent_cli_invokes_example(fresh_server):
    s = fresh_server("--examples")
    out = subprocess.run(
        [LAMBENT, "invoke", "sum-node", "--payload", '{"value1": 10, "value2": 20}',
         "--data-dir", s.data_dir, "--endpoint", s.endpoint],
        capture_output=True, timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == b"30"


def test_aws_cli_invokes_example(fresh_server, tmp_path):
    s = fresh_server("--examples")
    out_file = tmp_path / "out.json"
    res = s.aws("lambda", "invoke", "--function-name", "sum-python",
                "--payload", '{"value1": 10, "value2": 20}', "--log-type", "Tail", str(out_file))
    assert out_file.read_text() == "30"
    assert b'"StatusCode": 200' in res.stdout


def test_logging_example_logs(fresh_server):
    s = fresh_server("--examples")
    lam = s.client("lambda")
    for name in ("logging-python", "logging-node"):
        resp, body = invoke(lam, name, {"value1": 10, "value2": 20}, LogType="Tail")
        assert body == 10
        tail = log_tail(resp)
        assert "value1 = 10" in tail
        assert "REPORT RequestId: " + resp["ResponseMetadata"]["RequestId"] in tail


def test_readme_run_command_names_one_binary():
    """The README's first command is `cargo run --release -- up --examples`: `cargo run` must
    know which binary to run (the debug build stands in for the release one here)."""
    from conftest import ROOT
    out = subprocess.run(["cargo", "run", "-q", "--", "--version"], cwd=ROOT,
                         capture_output=True, timeout=600)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.startswith(b"lambent ")
