"""`lambent bench --quick` keeps working (timings are not asserted: that is what the tool reports)."""

import json
import os
import subprocess

import pytest
from conftest import LAMBENT


def test_bench_quick_reports_every_scenario(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run(
        [LAMBENT, "bench", "--quick", "--json", "--endpoint", server.endpoint,
         "--data-dir", server.data_dir],
        capture_output=True, timeout=120, env=env,
    )
    assert out.returncode == 0, out.stderr.decode()
    rows = {r["scenario"]: r for r in json.loads(out.stdout)}
    for rt in ("python", "node", "provided"):
        for scenario in (f"warm {rt}", f"cold {rt} (end to end)", f"throughput {rt}, 4 clients"):
            assert rows[scenario]["samples"] > 0, scenario
            assert 0 < rows[scenario]["p50_us"] <= rows[scenario]["max_us"]
        assert rows[f"cold {rt} (end to end)"]["init_p50_ms"] > 0
        # Authorization's cost: the same invokes signed by an IAM user with ten policies.
        assert rows[f"warm-user {rt} (IAM user, 10 policies)"]["samples"] > 0
        assert rows[f"throughput {rt}, 4 clients"]["errors"] == 0
        assert rows[f"throughput {rt}, 4 clients"]["per_second"] > 0
    assert rows["floor (GET /_lambent/health)"]["samples"] > 0
    assert rows["throughput floor, 4 clients"]["per_second"] > 0
    assert rows["async python, request to start"]["samples"] == 3
    assert rows["async python, request to start"]["p50_us"] > 0
    # Events accepted at load, then every one of them run.
    accept = rows["async accept (Event to 202), 4 clients"]
    assert accept["samples"] > 0 and accept["errors"] == 0 and accept["per_second"] > 0
    assert rows["async delivery, sustained"]["samples"] == accept["samples"]
    assert rows["async delivery, sustained"]["per_second"] > 0
    # S3 through the same endpoint: puts and gets of each size at load, and the time from a
    # PutObject to the notified function starting.
    for op in ("put", "get"):
        for size, nbytes in (("4 KiB", 4 << 10), ("1 MiB", 1 << 20)):
            row = rows[f"s3 {op} {size}, 4 clients"]
            assert row["samples"] > 0 and row["errors"] == 0, (op, size, row)
            assert 0 < row["p50_us"] <= row["max_us"]
            assert row["per_second"] > 0
            assert row["mb_per_second"] == pytest.approx(row["per_second"] * nbytes / 1e6)
    notify = rows["s3 notify python, put to start"]
    assert notify["samples"] == 3 and notify["errors"] == 0
    assert 0 < notify["p50_us"] <= notify["max_us"]
    # Memory is read from /proc of this machine: lambent's own, and one warm environment's
    # processes (told apart by their user, which needs root).
    assert 0 < rows["memory: lambent itself"]["pss_mb"] <= rows["memory: lambent itself"]["rss_mb"]
    if os.geteuid() == 0:
        env_row = rows["memory: idle warm python environment"]
        assert 0 < env_row["pss_mb"] <= env_row["rss_mb"]
        assert env_row["cgroup_peak_mb"] > 0
    # The benchmark removes what it created.
    lam = server.client("lambda")
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
             for f in page["Functions"]]
    assert not [n for n in names if n.startswith("lambent-bench-")]
    buckets = [b["Name"] for b in server.client("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith("lambent-bench-")]
