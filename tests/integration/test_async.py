"""Asynchronous invocations: durable, retried as configured, recorded to destinations, never
silently lost. Each test runs its own server with `--async-retry-delay 1s` (AWS waits one
minute before the second attempt and two before the third; the flag scales that)."""

import glob
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import LAMBENT, ROLE, Server, make_zip, unique

FAILING = """
import json
def handler(event, context):
    print("attempt", context.aws_request_id, json.dumps(event))
    raise Exception("intentional failure")
"""

RECORDER = """
import json
def handler(event, context):
    print("RECORD " + json.dumps(event))
"""


def create(lam, name, code, **kwargs):
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": code})}, **kwargs)
    return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def log_lines(server, name):
    """Every log line of a function, read from the data directory's stream files."""
    lines = []
    for path in glob.glob(os.path.join(server.data_dir, "logs", f"%2Faws%2Flambda%2F{name}", "*.log")):
        with open(path, errors="replace") as f:
            lines.extend(line.rstrip("\n").split("\t", 1)[-1] for line in f)
    return lines


def wait_for(predicate, timeout=30, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def failed_events(server, name=None):
    args = [LAMBENT, "events", "failed", "--json", "--data-dir", server.data_dir,
            "--endpoint", server.endpoint]
    if name:
        args.insert(3, name)
    out = subprocess.run(args, capture_output=True, timeout=60,
                         env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)["FailedEvents"]


def records(server, name):
    return [json.loads(line.split("RECORD ", 1)[1]) for line in log_lines(server, name)
            if "RECORD " in line]


def test_an_event_is_acknowledged_with_its_request_id_and_logged_under_it(fresh_server):
    s = fresh_server("--async-retry-delay", "1s")
    lam = s.client("lambda")
    name = unique("async-id")
    create(lam, name, "def handler(e, c):\n    print('ran', e['n'])\n")
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
    assert resp["StatusCode"] == 202
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id
    lines = wait_for(lambda: [l for l in log_lines(s, name) if request_id in l and "END" in l])
    assert lines
    assert any(l.startswith(f"START RequestId: {request_id}") for l in log_lines(s, name))
    assert "ran 7" in "\n".join(log_lines(s, name))


def test_a_failing_event_is_retried_as_configured_then_recorded_on_failure(fresh_server):
    s = fresh_server("--async-retry-delay", "1s")
    lam = s.client("lambda")
    target, dlq = unique("async-fail"), unique("async-dlq")
    dlq_arn = create(lam, dlq, RECORDER)
    target_arn = create(lam, target, FAILING)
    lam.put_function_event_invoke_config(
        FunctionName=target, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    )
    resp = lam.invoke(FunctionName=target, InvocationType="Event", Payload=b'{"message": "hi"}')
    request_id = resp["ResponseMetadata"]["RequestId"]
    got = wait_for(lambda: records(s, dlq), timeout=30)
    record = got[0]
    # AWS's invocation record, field by field.
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"{target_arn}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 2,
    }
    assert record["requestPayload"] == {"message": "hi"}
    assert record["responseContext"] == {
        "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "Exception"
    assert record["responsePayload"]["errorMessage"] == "intentional failure"
    # Exactly two attempts (one retry), a second apart at least.
    attempts = [l for l in log_lines(s, target) if l.startswith(f"START RequestId: {request_id}")]
    assert len(attempts) == 2
    failed = failed_events(s, target)
    assert [(f["RequestId"], f["Condition"], f["Attempts"]) for f in failed] == \
        [(request_id, "RetriesExhausted", 2)]
    assert failed[0]["Payload"] == {"message": "hi"}
    assert failed[0]["LastResponse"]["errorMessage"] == "intentional failure"


def test_default_retries_are_two_and_success_reaches_on_success(fresh_server):
    s = fresh_server("--async-retry-delay", "1s")
    lam = s.client("lambda")
    failing, ok, sink = unique("async-default"), unique("async-ok"), unique("async-sink")
    sink_arn = create(lam, sink, RECORDER)
    create(lam, failing, FAILING)
    create(lam, ok, "def handler(e, c):\n    return {'doubled': e['n'] * 2}\n")
    lam.put_function_event_invoke_config(
        FunctionName=ok, DestinationConfig={"OnSuccess": {"Destination": sink_arn}})
    failing_id = lam.invoke(FunctionName=failing, InvocationType="Event",
                            Payload=b"{}")["ResponseMetadata"]["RequestId"]
    ok_id = lam.invoke(FunctionName=ok, InvocationType="Event",
                       Payload=b'{"n": 21}')["ResponseMetadata"]["RequestId"]
    record = wait_for(lambda: records(s, sink))[0]
    assert record["requestContext"]["requestId"] == ok_id
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"doubled": 42}
    # Without a configuration AWS makes three attempts: at once, after 1 and after 2 more
    # delays.
    failed = wait_for(lambda: failed_events(s, failing), timeout=30)
    assert [(f["RequestId"], f["Attempts"]) for f in failed] == [(failing_id, 3)]
    starts = [l for l in log_lines(s, failing) if l.startswith(f"START RequestId: {failing_id}")]
    assert len(starts) == 3


def test_throttled_events_wait_and_an_aged_out_event_is_reported(fresh_server):
    s = fresh_server("--async-retry-delay", "1s")
    lam = s.client("lambda")
    name, dlq = unique("async-old"), unique("async-old-dlq")
    dlq_arn = create(lam, dlq, RECORDER)
    create(lam, name, "def handler(e, c):\n    print('ran')\n")
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}})
    # Reserved concurrency 0: every delivery is throttled, so the event waits in the queue.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    request_id = lam.invoke(FunctionName=name, InvocationType="Event",
                            Payload=b'{"old": true}')["ResponseMetadata"]["RequestId"]
    time.sleep(1.5)
    assert failed_events(s, name) == []
    assert not any("ran" in l for l in log_lines(s, name))
    # Age it by two minutes while lambent is down, then let it be looked at again.
    s.stop(signal.SIGKILL)
    db = sqlite3.connect(os.path.join(s.data_dir, "queue.db"))
    db.execute("UPDATE events SET enqueued_ms = enqueued_ms - 120000, due_ms = 0 WHERE request_id = ?",
               (request_id,))
    db.commit()
    db.close()
    again = Server(s.data_dir, "--async-retry-delay", "1s").start()
    try:
        failed = wait_for(lambda: failed_events(again, name))
        assert [(f["RequestId"], f["Condition"], f["Attempts"]) for f in failed] == \
            [(request_id, "EventAgeExceeded", 0)]
        record = wait_for(lambda: records(again, dlq))[0]
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert record["requestPayload"] == {"old": True}
    finally:
        again.stop()


def test_a_thousand_events_survive_kill_9_mid_backlog(fresh_server):
    s = fresh_server("--async-retry-delay", "1s")
    lam = s.client("lambda", retries=3)
    name = unique("async-backlog")
    create(lam, name, "import time\ndef handler(e, c):\n    time.sleep(0.01)\n    print('done', e['n'])\n")
    # Two at a time, so the backlog is still long when lambent is killed.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    total = 1000
    errors = []

    def send(numbers):
        client = s.client("lambda", retries=3)
        for n in numbers:
            try:
                r = client.invoke(FunctionName=name, InvocationType="Event",
                                  Payload=json.dumps({"n": n}).encode())
                assert r["StatusCode"] == 202
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((n, repr(e)))

    threads = [threading.Thread(target=send, args=(range(i, total, 8),)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    def done():
        return {int(l.split()[1]) for l in log_lines(s, name) if l.startswith("done ")}

    wait_for(lambda: len(done()) >= 50, timeout=60)
    s.stop(signal.SIGKILL)
    before = done()
    assert len(before) < total, "the backlog drained before the kill: nothing was tested"
    again = Server(s.data_dir, "--async-retry-delay", "1s").start()
    try:
        wait_for(lambda: len(done()) == total, timeout=180, interval=0.5)
        assert done() == set(range(total))
    finally:
        again.stop()


def test_a_1mb_event_is_accepted_and_delivered_whole(fresh_server):
    # AWS's Event limit is 1 MB (1,048,576 bytes) since October 2025; one byte more is refused.
    s = fresh_server("--async-retry-delay", "1s")
    lam = s.client("lambda")
    name = unique("async-1mb")
    create(lam, name, "def handler(e, c):\n    print('LENGTH', len(e['s']))\n", MemorySize=256)
    inner = 1048576 - len(b'{"s": ""}')
    payload = b'{"s": "' + b"x" * inner + b'"}'
    assert len(payload) == 1048576
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    assert resp["StatusCode"] == 202
    assert wait_for(lambda: [l for l in log_lines(s, name) if f"LENGTH {inner}" in l])

    with_one_more = b'{"s": "' + b"x" * (inner + 1) + b'"}'
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=with_one_more)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    # The accepted one ran once and left the queue; the refused one never entered it.
    time.sleep(0.5)
    assert len([l for l in log_lines(s, name) if "LENGTH" in l]) == 1
    assert failed_events(s, name) == []
