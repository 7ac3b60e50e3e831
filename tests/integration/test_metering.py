"""Metrics (`/_lambent/metrics`, Prometheus text) and metering (`lambent usage`,
`/_lambent/usage`), checked against what the REPORT lines of the same invocations say."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import LAMBENT, ROLE, Server, log_tail, make_zip, unique

CODE = """
import time
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    time.sleep(event.get("sleep", 0))
    return "ok"
"""


def metrics(server):
    with urllib.request.urlopen(server.endpoint + "/_lambent/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


def usage(server, *args):
    out = subprocess.run(
        [LAMBENT, "usage", "--json", *args, "--data-dir", server.data_dir,
         "--endpoint", server.endpoint],
        capture_output=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def report_fields(tail):
    line = next(l for l in tail.splitlines() if l.startswith("REPORT"))
    billed = int(re.search(r"Billed Duration: (\d+) ms", line).group(1))
    memory = int(re.search(r"Memory Size: (\d+) MB", line).group(1))
    return billed, memory


def test_metrics_count_invocations_outcomes_throttles_and_cold_starts(fresh_server):
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("metrics")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": CODE})})
    for _ in range(3):
        lam.invoke(FunctionName=name, Payload=b"{}")
    lam.invoke(FunctionName=name, Payload=b'{"fail": true}')
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as throttled:
        lam.invoke(FunctionName=name, Payload=b"{}")
    # boto3 may retry a 429 on its own: every attempt was a throttle.
    attempts = 1 + throttled.value.response["ResponseMetadata"].get("RetryAttempts", 0)
    m = metrics(s)
    f = f'function="{name}"'
    assert m[f'lambent_invocations_total{{{f},outcome="ok"}}'] == 3
    assert m[f'lambent_invocations_total{{{f},outcome="function_error"}}'] == 1
    assert m[f"lambent_errors_total{{{f}}}"] == 1
    assert m[f"lambent_throttles_total{{{f}}}"] == attempts
    assert m[f"lambent_cold_starts_total{{{f}}}"] == 1
    assert m[f"lambent_invocation_duration_seconds_count{{{f}}}"] == 4
    assert m[f'lambent_invocation_duration_seconds_bucket{{{f},le="+Inf"}}'] == 4
    assert m[f"lambent_init_duration_seconds_count{{{f}}}"] == 1
    assert m["lambent_concurrent_executions"] == 0
    assert m["lambent_async_queue_depth"] == 0
    # A waiting event shows in the queue gauges.
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    time.sleep(0.3)
    m = metrics(s)
    assert m["lambent_async_queue_depth"] == 1
    assert m["lambent_async_oldest_event_age_seconds"] > 0


def test_usage_agrees_with_the_report_lines_and_survives_a_restart(fresh_server):
    s = fresh_server("--billing-granularity", "100ms", "--free-requests", "2",
                     "--free-gb-seconds", "0.01")
    lam = s.client("lambda")
    names = [unique("meter-a"), unique("meter-b")]
    for name, memory in zip(names, (256, 1024)):
        lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, MemorySize=memory,
                            Code={"ZipFile": make_zip({"app.py": CODE})})
    billed = {n: [] for n in names}
    for name in names:
        for payload in ({}, {"sleep": 0.15}, {"fail": True}):
            resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(),
                              LogType="Tail")
            billed[name].append(report_fields(log_tail(resp)))
    # The book's model: billed in steps of 100 ms.
    assert all(b % 100 == 0 for runs in billed.values() for b, _ in runs)
    report = usage(s)
    by_name = {f["FunctionName"]: f for f in report["Functions"]}
    total_mb_ms = 0
    for name in names:
        mb_ms = sum(b * m for b, m in billed[name])
        total_mb_ms += mb_ms
        assert by_name[name]["Requests"] == 3
        assert by_name[name]["BilledMilliseconds"] == sum(b for b, _ in billed[name])
        assert by_name[name]["GbSeconds"] == pytest.approx(mb_ms / 1024 / 1000, rel=1e-12)
    gbs = total_mb_ms / 1024 / 1000
    total = report["Total"]
    assert total["Requests"] == 6
    assert total["GbSeconds"] == pytest.approx(gbs, rel=1e-12)
    price = report["PriceSheet"]
    assert price["PerMillionRequests"] == 0.20 and price["PerGbSecond"] == 0.0000166667
    assert total["CostBeforeFreeTier"] == pytest.approx(6 * 0.20 / 1e6 + gbs * 0.0000166667)
    # This server's free tier: two requests and 0.01 GB-s a month.
    assert total["FreeTierRequests"] == 2
    assert total["FreeTierGbSeconds"] == pytest.approx(0.01)
    assert total["Cost"] == pytest.approx(4 * 0.20 / 1e6 + (gbs - 0.01) * 0.0000166667)
    one = usage(s, "--function", names[0])
    assert [f["FunctionName"] for f in one["Functions"]] == [names[0]]
    assert usage(s, "--from", "2000-01-01", "--to", "2000-01-02")["Total"]["Requests"] == 0
    # Metered usage is on disk: it survives kill -9 once flushed (every second).
    time.sleep(1.5)
    s.stop(signal.SIGKILL)
    again = Server(s.data_dir, "--billing-granularity", "100ms").start()
    try:
        after = usage(again)
        assert after["Total"]["Requests"] == 6
        assert after["Total"]["GbSeconds"] == pytest.approx(gbs, rel=1e-12)
    finally:
        again.stop()


def test_bad_billing_granularity_is_refused(tmp_path):
    out = subprocess.run([LAMBENT, "up", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path),
                          "--billing-granularity", "0.5ms"], capture_output=True, timeout=30)
    assert out.returncode != 0
    assert b"--billing-granularity" in out.stderr


def test_a_log_metric_filter_counts_matching_lines_in_metrics(fresh_server):
    s = fresh_server()
    lam, logs = s.client("lambda"), s.client("logs")
    name = unique("metric-filter")
    group = f"/aws/lambda/{name}"
    logs.create_log_group(logGroupName=group)
    logs.put_metric_filter(
        logGroupName=group, filterName="errors", filterPattern='"ERROR"',
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "App",
                                "metricValue": "1"}],
    )
    code = ("def handler(event, context):\n"
            "    for _ in range(event['errors']):\n"
            "        print('ERROR something broke')\n"
            "    print('INFO fine')\n")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": code})})
    for errors in (2, 0, 1):
        lam.invoke(FunctionName=name, Payload=json.dumps({"errors": errors}).encode())
    key = (f'lambent_log_metric_filter_value{{log_group="{group}",filter="errors",'
           f'namespace="App",metric="Errors"}}')
    deadline = time.time() + 10
    while time.time() < deadline and metrics(s).get(key) != 3:
        time.sleep(0.1)
    assert metrics(s)[key] == 3
