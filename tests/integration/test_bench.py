"""`lambent bench --quick` keeps working (timings are not asserted: that is what the tool reports)."""

import json
import os
import subprocess

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
