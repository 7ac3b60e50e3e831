"""Invoke end to end: payloads, invocation types, log tails, timeouts, crashes, limits,
warm reuse, throttling and qualifiers, asserted against what AWS Lambda returns.

Sources for the expected values: /work/shared/spec/lambda-api.md (Invoke section),
/work/shared/spec/runtime-api.md, and the AWS recordings in
/work/shared/spec/data/aws-recorded/lambda__test_lambda.snapshot.json.
"""

import base64
import json
import math
import os
import re
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, error_code, invoke, log_tail, make_zip, status, unique

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<rid>\S+)\tDuration: (?P<duration>\d+\.\d{2}) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB\t(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?$"
)
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

# One handler used by most tests: what it does is chosen by the event.
APP = '''
import json
import os
import sys
import time

COUNT = 0
# Identifies the environment (every runtime is PID 1 of its own namespace, so a pid cannot).
INSTANCE = os.urandom(8).hex()


def handler(event, context):
    global COUNT
    COUNT += 1
    if not isinstance(event, dict):
        return {"event": event}
    if "print" in event:
        print(event["print"])
    if "print_kb" in event:
        for i in range(event["print_kb"]):
            print(("line %04d " % i) + "y" * 1013)
    if "sleep" in event:
        time.sleep(event["sleep"])
    if "exit" in event:
        sys.stdout.flush()
        os._exit(event["exit"])
    if "big" in event:
        return "x" * event["big"]
    if "length" in event:
        return len(event["length"])
    return {
        "event": event,
        "count": COUNT,
        "instance": INSTANCE,
        "stream": context.log_stream_name,
        "version": context.function_version,
        "rid": context.aws_request_id,
    }
'''


def rid_of(resp):
    return resp["ResponseMetadata"]["RequestId"]


def report_of(tail):
    lines = [line for line in tail.split("\n") if line.startswith("REPORT RequestId: ")]
    assert len(lines) == 1, tail
    m = REPORT_RE.match(lines[0])
    assert m, f"REPORT line not in AWS's format: {lines[0]!r}"
    return m


def create_on(lam, files, runtime="python3.12", handler="app.handler", **kw):
    """CreateFunction on a (private) server; the server is killed after the test."""
    name = unique()
    kw.setdefault("Role", ROLE)
    lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler,
                        Code={"ZipFile": make_zip(files)}, **kw)
    return name


# --------------------------------------------------------------------------- RequestResponse


def test_request_response_returns_result_bytes_exactly(lam, function):
    name = function({"app.py": 'def handler(event, context):\n'
                               '    return {"a": 1, "nested": {"b": [1, 2.5, None, True]}, "s": "x"}\n'})
    resp = lam.invoke(FunctionName=name, Payload=b'{"k": "v"}')
    raw = resp["Payload"].read()
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    # awslambdaric serialises with json.dumps' default separators; lambent must pass the
    # runtime's bytes through untouched.
    assert raw == b'{"a": 1, "nested": {"b": [1, 2.5, null, true]}, "s": "x"}'
    assert UUID_RE.match(rid_of(resp))


def test_empty_payload_gives_handler_empty_object(lam, function):
    name = function({"app.py": APP})
    resp, body = invoke(lam, name)
    assert resp["StatusCode"] == 200
    assert body["event"] == {}


def test_handler_returning_none_gives_null(lam, function):
    name = function({"app.py": "def handler(event, context):\n    return None\n"})
    resp = lam.invoke(FunctionName=name)
    assert resp["StatusCode"] == 200
    assert resp["Payload"].read() == b"null"  # recorded: test_invocation_type_no_return_payload


def test_log_tail_has_start_end_report_and_init_only_on_cold_start(lam, function):
    name = function({"app.py": APP})
    resp, body = invoke(lam, name, {"print": "hello-from-handler"}, LogType="Tail")
    rid = rid_of(resp)
    assert body["rid"] == rid
    tail = log_tail(resp)
    assert tail.endswith("\n")
    lines = tail.rstrip("\n").split("\n")
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert "hello-from-handler" in lines
    assert lines.index("hello-from-handler") < lines.index(f"END RequestId: {rid}")
    assert lines[-2] == f"END RequestId: {rid}"
    m = report_of(tail)
    assert lines[-1] == m.group(0)
    assert m.group("rid") == rid
    assert m.group("memory") == "128"
    assert int(m.group("used")) > 0
    assert int(m.group("billed")) == max(1, math.ceil(float(m.group("duration"))))
    assert m.group("init") is not None and float(m.group("init")) > 0

    resp2, body2 = invoke(lam, name, {"print": "second"}, LogType="Tail")
    assert body2["count"] == 2  # same (warm) environment
    m2 = report_of(log_tail(resp2))
    assert m2.group("rid") == rid_of(resp2)
    assert m2.group("init") is None, "a warm invoke has no Init Duration"

    # Without LogType there is no LogResult.
    resp3, _ = invoke(lam, name, {})
    assert "LogResult" not in resp3


def test_log_tail_is_last_4096_bytes(lam, function):
    name = function({"app.py": APP}, MemorySize=256)
    resp, _ = invoke(lam, name, {"print_kb": 20}, LogType="Tail")
    rid = rid_of(resp)
    raw = base64.b64decode(resp["LogResult"])
    assert len(raw) == 4096
    text = raw.decode()
    assert f"START RequestId: {rid}" not in text  # cut off: 20 KB were printed after it
    assert f"\nEND RequestId: {rid}\n" in text
    assert "line 0019 " in text
    m = report_of(text)
    assert m.group("memory") == "256"
    assert text.endswith(m.group(0) + "\n")


# --------------------------------------------------------------------------- DryRun / Event


def test_dry_run_returns_204_without_running(lam, function):
    name = function({"app.py": APP})
    resp = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert resp["Payload"].read() == b""


def test_event_invoke_returns_202_and_runs(server, lam, function):
    name = function({"app.py": APP})
    token = uuid.uuid4().hex
    resp = lam.invoke(FunctionName=name, InvocationType="Event",
                      Payload=f'{{"print": "marker-{token}"}}')
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    rid = rid_of(resp)
    assert UUID_RE.match(rid)

    logs = server.client("logs")
    deadline = time.time() + 10
    messages = []
    while time.time() < deadline:
        try:
            out = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")
            messages = [e["message"] for e in out["events"]]
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        if any(f"marker-{token}" in m for m in messages) and any(
            m.startswith(f"REPORT RequestId: {rid}") for m in messages
        ):
            break
        time.sleep(0.1)
    assert any(f"marker-{token}" in m for m in messages), messages
    # The async invocation runs under the request id the 202 answered with.
    assert any(m.rstrip("\n") == f"START RequestId: {rid} Version: $LATEST" for m in messages), messages
    assert any(m.startswith(f"REPORT RequestId: {rid}\t") for m in messages), messages


# --------------------------------------------------------------------------- timeout / crash


def test_timeout_returns_sandbox_timedout_and_next_invoke_is_cold(lam, function):
    name = function({"app.py": APP}, Timeout=1)
    start = time.time()
    resp, body = invoke(lam, name, {"sleep": 5}, LogType="Tail")
    elapsed = time.time() - start
    rid = rid_of(resp)
    assert elapsed < 4, f"invoke took {elapsed:.1f}s: the timeout did not cut it at 1 s"
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    tail = log_tail(resp)
    lines = tail.rstrip("\n").split("\n")
    timed_out = [line for line in lines if "Task timed out" in line]
    assert len(timed_out) == 1, tail
    assert re.match(rf"^{ISO_MS} {rid} Task timed out after 1\.00 seconds$", timed_out[0]), timed_out
    assert lines[-2] == f"END RequestId: {rid}"
    m = report_of(tail)
    assert 1000.0 <= float(m.group("duration")) < 1100.0

    resp2, body2 = invoke(lam, name, {}, LogType="Tail")
    assert "FunctionError" not in resp2
    assert body2["count"] == 1, "the timed-out environment must not be reused"
    assert report_of(log_tail(resp2)).group("init") is not None


@pytest.mark.parametrize(
    "code,reason",
    [(1, "Runtime exited with error: exit status 1"), (0, "Runtime exited without providing a reason")],
)
def test_runtime_exit_in_handler(lam, function, code, reason):
    name = function({"app.py": APP})
    resp, body = invoke(lam, name, {"exit": code})
    rid = rid_of(resp)
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {rid} Error: {reason}"}

    resp2, body2 = invoke(lam, name, {"after": True}, LogType="Tail")
    assert "FunctionError" not in resp2
    assert body2["event"] == {"after": True}
    assert body2["count"] == 1
    assert report_of(log_tail(resp2)).group("init") is not None


def test_response_too_large(lam, function):
    name = function({"app.py": APP}, MemorySize=512)
    resp, body = invoke(lam, name, {"big": 6291556})  # JSON string: 6291558 bytes
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    }
    # lambent still serves, and the function still works.
    assert name in [f["FunctionName"] for f in lam.list_functions(MaxItems=10000)["Functions"]]
    resp2, body2 = invoke(lam, name, {"small": 1})
    assert "FunctionError" not in resp2
    assert body2["event"] == {"small": 1}


def test_response_just_under_limit_is_returned(lam, function):
    name = function({"app.py": APP}, MemorySize=512)
    resp = lam.invoke(FunctionName=name, Payload='{"big": 6291550}')
    raw = resp["Payload"].read()
    assert "FunctionError" not in resp
    assert len(raw) == 6291552
    assert raw[:3] == b'"xx' and raw[-2:] == b'x"'


# --------------------------------------------------------------------------- warm reuse / scaling


def test_sequential_invokes_reuse_the_environment(lam, function):
    name = function({"app.py": APP})
    bodies = [invoke(lam, name, {"i": i})[1] for i in range(4)]
    assert [b["count"] for b in bodies] == [1, 2, 3, 4]
    assert len({b["instance"] for b in bodies}) == 1
    assert len({b["stream"] for b in bodies}) == 1


def _overlapping(clients, name, payload):
    """Invokes `name` once per client, all released at the same moment."""
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def run(i):
        barrier.wait()
        try:
            resp = clients[i].invoke(FunctionName=name, Payload=payload)
            results[i] = ("ok", resp, resp["Payload"].read())
        except ClientError as e:
            results[i] = ("error", e, None)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_invokes_start_more_environments(server, function):
    lam = server.client("lambda")
    name = function({"app.py": APP})
    clients = [server.client("lambda") for _ in range(5)]
    results = _overlapping(clients, name, '{"sleep": 1}')
    assert all(r is not None and r[0] == "ok" for r in results), results
    assert all("FunctionError" not in r[1] for r in results)
    bodies = [json.loads(r[2]) for r in results]
    assert len({b["instance"] for b in bodies}) == 5
    assert len({b["stream"] for b in bodies}) == 5
    assert all(b["count"] == 1 for b in bodies)
    # Afterwards the warm environments serve sequential invokes.
    _, body = invoke(lam, name, {})
    assert body["count"] == 2
    assert body["stream"] in {b["stream"] for b in bodies}


# --------------------------------------------------------------------------- throttling


def _throttles(results):
    return [r[1] for r in results if r[0] == "error"]


def test_reserved_concurrency_throttles(server, lam, function):
    name = function({"app.py": APP})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    clients = [server.client("lambda") for _ in range(2)]
    results = _overlapping(clients, name, '{"sleep": 1.5}')
    throttled = _throttles(results)
    assert len(throttled) == 1, results
    e = throttled[0]
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert e.response["Error"]["Code"] == "TooManyRequestsException"
    assert e.response["Error"]["Message"] == "Rate Exceeded."
    assert e.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    ok = [r for r in results if r[0] == "ok"]
    assert len(ok) == 1 and "FunctionError" not in ok[0][1]
    # Once the slot is free again the function runs.
    resp, _ = invoke(lam, name, {})
    assert "FunctionError" not in resp


def test_account_concurrency_limit_throttles(fresh_server):
    s = fresh_server("--max-concurrency", "2")
    lam = s.client("lambda")
    name = create_on(lam, {"app.py": APP})
    clients = [s.client("lambda") for _ in range(3)]
    results = _overlapping(clients, name, '{"sleep": 1.5}')
    throttled = _throttles(results)
    assert len(throttled) == 1, results
    e = throttled[0]
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert e.response["Error"]["Code"] == "TooManyRequestsException"
    assert e.response["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert sum(1 for r in results if r[0] == "ok") == 2
    resp, _ = invoke(lam, name, {})
    assert "FunctionError" not in resp


# --------------------------------------------------------------------------- payload errors


def test_non_json_payload_is_rejected(lam, function):
    name = function({"app.py": APP})
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"not json")
    assert status(e) == 400
    assert error_code(e) == "InvalidRequestContentException"
    assert e.value.response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )


def test_sync_payload_over_6mb_is_rejected(lam, function):
    name = function({"app.py": APP})
    payload = b'"' + b"x" * (6291457 - 2) + b'"'
    assert len(payload) == 6291457
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=payload)
    assert status(e) == 413
    assert error_code(e) == "RequestEntityTooLargeException"
    assert e.value.response["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_sync_payload_under_6mb_is_delivered(lam, function):
    name = function({"app.py": APP}, MemorySize=512)
    inner = "z" * 6_000_000
    resp, body = invoke(lam, name, {"length": inner})
    assert "FunctionError" not in resp
    assert body == 6_000_000


def test_event_payload_over_1mb_is_rejected(lam, function):
    # AWS raised the Event limit from 256 KB to 1 MB in October 2025 (test_async.py shows a
    # 1 MB event delivered); the deprecated InvokeAsync kept 256 KB.
    name = function({"app.py": APP})
    payload = b'"' + b"x" * (1048577 - 2) + b'"'
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    assert status(e) == 413
    assert error_code(e) == "RequestEntityTooLargeException"
    assert e.value.response["Error"]["Message"] == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    with pytest.raises(ClientError) as e:
        lam.invoke_async(FunctionName=name, InvokeArgs=b'"' + b"x" * (262145 - 2) + b'"')
    assert status(e) == 413
    assert error_code(e) == "RequestEntityTooLargeException"
    assert e.value.response["Error"]["Message"] == (
        "262145 byte payload is too large for the Event invocation type (limit 262144 bytes)"
    )
    # A synchronous invocation keeps its 6 MB limit.
    inner = 1048577 - len(b'{"length": ""}')
    resp, body = invoke(lam, name, b'{"length": "' + b"x" * inner + b'"}')
    assert "FunctionError" not in resp
    assert body == inner


# --------------------------------------------------------------------------- qualifiers


def test_qualifiers_latest_version_alias(lam, function):
    v1 = APP.replace('"event": event,', '"event": event, "code": "one",')
    v2 = APP.replace('"event": event,', '"event": event, "code": "two",')
    name = function({"app.py": v1})
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": v2}))
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    resp, body = invoke(lam, name, {})
    assert (resp["ExecutedVersion"], body["code"], body["version"]) == ("$LATEST", "two", "$LATEST")
    resp, body = invoke(lam, name, {}, Qualifier="$LATEST")
    assert (resp["ExecutedVersion"], body["code"]) == ("$LATEST", "two")
    resp, body = invoke(lam, name, {}, Qualifier="1")
    assert (resp["ExecutedVersion"], body["code"], body["version"]) == ("1", "one", "1")
    assert "[1]" in body["stream"]
    resp, body = invoke(lam, name, {}, Qualifier="live")
    assert (resp["ExecutedVersion"], body["code"]) == ("1", "one")
    resp, body = invoke(lam, f"{name}:live", {})
    assert (resp["ExecutedVersion"], body["code"]) == ("1", "one")
    resp, body = invoke(lam, f"{arn}:1", {})
    assert (resp["ExecutedVersion"], body["code"]) == ("1", "one")

    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="99")
    assert status(e) == 404
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == f"Function not found: {arn}:99"

    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=f"{name}:live", Qualifier="1")
    assert status(e) == 400
    assert error_code(e) == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"] == (
        "The derived qualifier from the function name does not match the specified qualifier."
    )

    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="nosuchalias")
    assert status(e) == 404
    assert error_code(e) == "ResourceNotFoundException"


def test_invoke_unknown_function_is_404(lam):
    name = unique("missing")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert status(e) == 404
    assert error_code(e) == "ResourceNotFoundException"
    # Recorded AWS answer (test_invoke_exceptions): the unqualified ARN gets ":$LATEST".
    assert re.match(
        rf"^Function not found: arn:aws:lambda:us-east-1:\d{{12}}:function:{name}:\$LATEST$",
        e.value.response["Error"]["Message"],
    ), e.value.response["Error"]["Message"]


def test_idle_environment_stops_after_keep_alive(fresh_server):
    """`--keep-alive 1`: an environment idle for longer is stopped, so the next call is cold."""
    # Without stems, the environment is the only directory there is.
    s = fresh_server("--keep-alive", "1", "--stems", "0")
    lam = s.client("lambda")
    name = unique("keepalive")
    code = "import os\nTOKEN = os.urandom(8).hex()\ndef handler(e, c):\n    return TOKEN\n"
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": make_zip({"app.py": code})},
    )
    resp, first = invoke(lam, name, {}, LogType="Tail")
    assert "Init Duration" in log_tail(resp)
    resp, again = invoke(lam, name, {}, LogType="Tail")
    assert again == first and "Init Duration" not in log_tail(resp)
    envs = os.path.join(s.data_dir, "envs")
    assert len(os.listdir(envs)) == 1
    time.sleep(2.5)
    # The idle environment is gone, files and all, not merely forgotten.
    assert os.listdir(envs) == []
    resp, later = invoke(lam, name, {}, LogType="Tail")
    assert later != first
    assert "Init Duration" in log_tail(resp)
