"""The CloudWatch Logs API end to end with boto3's `logs` client and the aws CLI: log groups,
streams, PutLogEvents/GetLogEvents, FilterLogEvents with AWS's filter-pattern syntax (on events
written through the API and by a real function), retention that really deletes, metric
filters, and `lambent logs --filter` with a JSON pattern.

Expected shapes, codes and messages: /work/shared/spec/logs-api.md.
"""

import json
import os
import subprocess
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import LAMBENT, error_code, invoke

DAY_MS = 24 * 3600 * 1000


def now_ms():
    return int(time.time() * 1000)


def group_name():
    return f"/lambent-test/{uuid.uuid4().hex[:12]}"


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def logs(server):
    return server.client("logs")


@pytest.fixture
def group(logs):
    """A fresh log group (with a stream `s1`), deleted afterwards."""
    name = group_name()
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s1")
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except logs.exceptions.ResourceNotFoundException:
        pass


def put(logs, group, stream, messages, start=None, step=1):
    """PutLogEvents of `messages`, one millisecond (or `step`) apart."""
    start = now_ms() - 10_000 if start is None else start
    events = [{"timestamp": start + i * step, "message": m} for i, m in enumerate(messages)]
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def filter_all(logs, **kwargs):
    """Every page of FilterLogEvents, the way botocore's paginator walks it."""
    events, token, tokens = [], None, set()
    while True:
        args = dict(kwargs)
        if token:
            args["nextToken"] = token
        page = logs.filter_log_events(**args)
        assert page["searchedLogStreams"] == []
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events
        assert token not in tokens, "the same nextToken came back twice"
        tokens.add(token)


# ------------------------------------------------------------------------------ log groups


def test_log_groups_create_describe_delete(server, logs):
    prefix = f"/lambent-test/{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}/b", f"{prefix}/a", f"{prefix}/C"]
    for n in names:
        logs.create_log_group(logGroupName=n)
    try:
        with pytest.raises(ClientError) as e:
            logs.create_log_group(logGroupName=names[0])
        assert error_code(e) == "ResourceAlreadyExistsException"
        assert message(e) == "The specified log group already exists"

        listed = logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
        # ASCII order: upper case before lower case.
        assert [g["logGroupName"] for g in listed] == sorted(names)
        g = listed[0]
        assert g["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{g['logGroupName']}:*"
        assert g["logGroupArn"] == g["arn"][:-2]
        assert g["metricFilterCount"] == 0 and g["storedBytes"] == 0
        assert g["logGroupClass"] == "STANDARD"
        assert abs(g["creationTime"] - now_ms()) < 60_000
        assert "retentionInDays" not in g

        # Pages of one, then the rest; the last page has no nextToken.
        first = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=1)
        assert len(first["logGroups"]) == 1 and first["nextToken"]
        rest = logs.describe_log_groups(logGroupNamePrefix=prefix, nextToken=first["nextToken"])
        assert [g["logGroupName"] for g in first["logGroups"] + rest["logGroups"]] == sorted(names)
        assert "nextToken" not in rest
        paginated = logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 2})
        assert [g["logGroupName"] for p in paginated for g in p["logGroups"]] == sorted(names)

        # The pattern is a case-sensitive substring.
        pattern = logs.describe_log_groups(logGroupNamePattern=prefix.split("/")[-1] + "/C")
        assert [g["logGroupName"] for g in pattern["logGroups"]] == [f"{prefix}/C"]

        with pytest.raises(ClientError) as e:
            logs.describe_log_groups(logGroupNamePrefix=prefix, logGroupNamePattern="x")
        assert error_code(e) == "InvalidParameterException"
        assert message(e) == ("LogGroup name prefix and LogGroup name pattern are mutually "
                              "exclusive parameters.")
        with pytest.raises(ClientError) as e:
            logs.create_log_group(logGroupName="has space")
        assert error_code(e) == "InvalidParameterException"
        with pytest.raises(ClientError) as e:
            logs.create_log_group(logGroupName="a" * 513)
        assert message(e) == ("Invalid LogGroup or LogStream, both must have length less than "
                              "or equal to 512.")

        # The aws CLI sees the same.
        out = server.aws("logs", "describe-log-groups", "--log-group-name-prefix", prefix)
        assert [g["logGroupName"] for g in json.loads(out.stdout)["logGroups"]] == sorted(names)
    finally:
        for n in names:
            logs.delete_log_group(logGroupName=n)
    assert logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName=names[0])
    assert error_code(e) == "ResourceNotFoundException"
    assert message(e) == "The specified log group does not exist."


def test_delete_log_group_removes_streams_events_and_filters(logs, group):
    put(logs, group, "s1", ["gone soon"])
    logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="gone",
                           metricTransformations=[{"metricName": "M", "metricNamespace": "N",
                                                   "metricValue": "1"}])
    logs.delete_log_group(logGroupName=group)
    logs.create_log_group(logGroupName=group)
    assert logs.describe_log_streams(logGroupName=group)["logStreams"] == []
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []
    assert filter_all(logs, logGroupName=group) == []


def test_function_log_groups_exist_implicitly(server, lam, logs, function):
    name = function({"app.py": "def handler(event, context):\n    print('hi')\n"})
    invoke(lam, name, {})
    group = f"/aws/lambda/{name}"
    listed = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in listed] == [group]
    assert listed[0]["storedBytes"] > 0
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1 and "[$LATEST]" in streams[0]["logStreamName"]


def test_what_a_function_prints_comes_between_its_start_and_end(server, lam, logs, function):
    """Regression: the capture task once took the function's first output before the START
    command that preceded it, so a print could land above its invocation's START."""
    name = function({"app.py": "def handler(event, context):\n    print('line', event['n'])\n"})
    for n in range(25):
        invoke(lam, name, {"n": n})
    group = f"/aws/lambda/{name}"
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    lines = [e["message"].rstrip("\n") for e in events["events"]]
    lines = [l for l in lines if not l.startswith("lambent:")]  # the runtime's own notes
    for n in range(25):
        at = lines.index(f"line {n}")
        assert lines[at - 1].startswith("START RequestId: "), lines[at - 2 : at + 2]
        assert lines[at + 1].startswith("END RequestId: "), lines[at - 2 : at + 2]


# -------------------------------------------------------------------- streams and events


def test_put_and_get_log_events_round_trip(server, logs, group):
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName=group, logStreamName="s1")
    assert error_code(e) == "ResourceAlreadyExistsException"
    assert message(e) == "The specified log stream already exists"
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName=group + "-missing", logStreamName="s1")
    assert error_code(e) == "ResourceNotFoundException"

    base = now_ms() - 60_000
    out = put(logs, group, "s1", ["first", "second\nwith a newline", "third"], start=base)
    assert out["nextSequenceToken"]
    assert "rejectedLogEventsInfo" not in out
    # A later batch may be older than the last one (sequence tokens are ignored).
    logs.put_log_events(logGroupName=group, logStreamName="s1", sequenceToken="bogus",
                        logEvents=[{"timestamp": base - 5, "message": "earlier"}])

    got = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == [
        "earlier", "first", "second\nwith a newline", "third"]
    assert [e["timestamp"] for e in got["events"]] == [base - 5, base, base + 1, base + 2]
    assert all(abs(e["ingestionTime"] - now_ms()) < 60_000 for e in got["events"])
    # At the end, the same forward token comes back (clients loop until it does).
    again = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True,
                                nextToken=got["nextForwardToken"])
    assert again["events"] == [] and again["nextForwardToken"] == got["nextForwardToken"]
    # Newest page by default; walking backwards.
    newest = logs.get_log_events(logGroupName=group, logStreamName="s1", limit=2)
    assert [e["message"] for e in newest["events"]] == ["second\nwith a newline", "third"]
    older = logs.get_log_events(logGroupName=group, logStreamName="s1", limit=2,
                                nextToken=newest["nextBackwardToken"])
    assert [e["message"] for e in older["events"]] == ["earlier", "first"]
    window = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True,
                                 startTime=base, endTime=base + 2)
    assert [e["message"] for e in window["events"]] == ["first", "second\nwith a newline"]

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    s = streams[0]
    assert s["logStreamName"] == "s1"
    assert s["firstEventTimestamp"] == base - 5 and s["lastEventTimestamp"] == base + 2
    assert s["uploadSequenceToken"] and s["storedBytes"] == 0
    assert s["arn"].endswith(f":log-group:{group}:log-stream:s1")
    logs.create_log_stream(logGroupName=group, logStreamName="empty")
    empty = [x for x in logs.describe_log_streams(logGroupName=group)["logStreams"]
             if x["logStreamName"] == "empty"][0]
    assert "firstEventTimestamp" not in empty and "uploadSequenceToken" not in empty
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                        descending=True)["logStreams"]
    assert by_time[0]["logStreamName"] == "s1"
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                  logStreamNamePrefix="s")
    assert error_code(e) == "InvalidParameterException"

    out = server.aws("logs", "get-log-events", "--log-group-name", group,
                     "--log-stream-name", "s1", "--start-from-head")
    assert [e["message"] for e in json.loads(out.stdout)["events"]][0] == "earlier"


def test_put_log_events_rejections_and_whole_request_errors(logs, group):
    now = now_ms()
    out = logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now - 15 * DAY_MS, "message": "too old"},
        {"timestamp": now - 1000, "message": "kept 1"},
        {"timestamp": now, "message": "kept 2"},
        {"timestamp": now + 3 * 3600 * 1000, "message": "too new"},
    ])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1,
                                            "tooNewLogEventStartIndex": 3}
    got = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["kept 1", "kept 2"]

    def refused(events, text):
        with pytest.raises(ClientError) as e:
            logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=events)
        assert error_code(e) == "InvalidParameterException"
        assert message(e) == text

    refused([{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}],
            "Log events in a single PutLogEvents request must be in chronological order.")
    refused([{"timestamp": now - DAY_MS - 10, "message": "a"}, {"timestamp": now, "message": "b"}],
            "The batch of log events in a single PutLogEvents request cannot span more than "
            "24 hours.")
    refused([{"timestamp": now, "message": "x" * 262_119}],
            "Log event too large: 262145 bytes exceeds limit of 262144")
    # Six events of 200,026 counted bytes: over the batch limit, and said the AWS way.
    refused([{"timestamp": now, "message": "x" * 200_000}] * 6,
            "Upload too large: 1200156 bytes exceeds limit of 1048576")
    # Nothing of the refused batches was stored.
    got = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert len(got["events"]) == 2

    with pytest.raises(ClientError) as e:
        put(logs, group, "no-such-stream", ["x"])
    assert error_code(e) == "ResourceNotFoundException"
    assert message(e) == "The specified log stream does not exist."
    with pytest.raises(ClientError) as e:
        put(logs, group + "-missing", "s1", ["x"])
    assert message(e) == "The specified log group does not exist."
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName=group, logStreamName="no-such-stream")
    assert error_code(e) == "ResourceNotFoundException"


# -------------------------------------------------------------------------- filter patterns

TEXT = [
    "ERROR Failed to process the request id=1",
    "WARN disk almost full",
    "INFO all good",
    "ERROR WARN both at once",
    "process Failed to",
]
JSON_EVENTS = [
    {"level": "ERROR", "latency": 150, "user": {"id": 1, "email": "a@b.c"}, "msg": "timeout"},
    {"level": "INFO", "latency": 50, "user": {"id": 2}, "flag": True},
    {"level": "WARN", "latency": 100, "trace": None, "msg": "retrying"},
]
J = [json.dumps(e) for e in JSON_EVENTS]
# Both streams interleaved by timestamp (TEXT at base, base+2, ...; J at base+1, base+3, ...).
IN_ORDER = [TEXT[0], J[0], TEXT[1], J[1], TEXT[2], J[2], TEXT[3], TEXT[4]]

# (pattern, the messages of TEXT + J it matches)
PATTERNS = [
    ("ERROR", [TEXT[0], TEXT[3], J[0]]),
    ("ERROR WARN", [TEXT[3]]),
    ("Failed to process", [TEXT[0], TEXT[4]]),
    ('"Failed to process"', [TEXT[0]]),
    ("?disk ?good", [TEXT[1], TEXT[2]]),
    ("ERROR -WARN", [TEXT[0], J[0]]),
    ("-ERROR -WARN -INFO", [TEXT[4]]),
    ('{ $.level = "ERROR" }', [J[0]]),
    ("{ $.level = WARN }", [J[2]]),
    ("{ $.latency > 100 }", [J[0]]),
    ("{ $.latency >= 100 }", [J[0], J[2]]),
    ("{ $.latency < 1e2 }", [J[1]]),
    ('{ $.user.id = 1 && $.msg = "timeout" }', [J[0]]),
    ("{ $.user.id = 2 || $.level = WARN }", [J[1], J[2]]),
    ("{ ($.latency > 60) && ($.level != ERROR) }", [J[2]]),
    ("{ $.msg = time* }", [J[0]]),
    ("{ $.user.email = *@b.c }", [J[0]]),
    ("{ $.flag EXISTS }", [J[1]]),
    ("{ $.msg NOT EXISTS }", [J[1]]),
    ("{ $.trace IS NULL }", [J[2]]),
    ("{ $.flag IS TRUE }", [J[1]]),
    ("{ $.msg = %retr.*g% }", [J[2]]),
    ("%^WARN|good$%", [TEXT[1], TEXT[2]]),
    ("[level = ERROR, ...]", [TEXT[0], TEXT[3]]),
    ("[a, b, c = almost, d]", [TEXT[1]]),
]


@pytest.fixture(scope="module")
def filtered_group(logs):
    name = group_name()
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="text")
    logs.create_log_stream(logGroupName=name, logStreamName="json")
    base = now_ms() - 60_000
    put(logs, name, "text", TEXT, start=base, step=2)
    put(logs, name, "json", J, start=base + 1, step=2)
    yield name, base
    logs.delete_log_group(logGroupName=name)


@pytest.mark.parametrize("pattern,expected", PATTERNS, ids=[p for p, _ in PATTERNS])
def test_filter_patterns_on_put_events(logs, filtered_group, pattern, expected):
    group, _ = filtered_group
    got = filter_all(logs, logGroupName=group, filterPattern=pattern)
    assert [e["message"] for e in got] == [m for m in IN_ORDER if m in expected]


def test_filter_everything_paging_and_selection(server, logs, filtered_group):
    group, base = filtered_group
    everything = filter_all(logs, logGroupName=group)
    # Interleaved across streams in timestamp order.
    assert [e["message"] for e in everything] == IN_ORDER
    assert {e["logStreamName"] for e in everything} == {"text", "json"}
    for e in everything:
        assert len(e["eventId"]) == 56 and e["eventId"].isdigit() and e["ingestionTime"]
    for pattern in ("", '""', '" "'):
        assert len(filter_all(logs, logGroupName=group, filterPattern=pattern)) == len(everything)
    # Small pages carry the same events with the same ids.
    paged = filter_all(logs, logGroupName=group, limit=3)
    assert [e["eventId"] for e in paged] == [e["eventId"] for e in everything]
    assert len({e["eventId"] for e in paged}) == len(paged)
    first = logs.filter_log_events(logGroupName=group, limit=3)
    assert len(first["events"]) == 3 and first["nextToken"]

    only_json = filter_all(logs, logGroupName=group, logStreamNames=["json"])
    assert [e["message"] for e in only_json] == J
    assert len(filter_all(logs, logGroupName=group, logStreamNamePrefix="te")) == len(TEXT)
    # Both ends inclusive, as AWS documents for FilterLogEvents.
    window = filter_all(logs, logGroupName=group, startTime=base, endTime=base + 2)
    assert [e["message"] for e in window] == [TEXT[0], J[0], TEXT[1]]

    def refused(code, **kwargs):
        with pytest.raises(ClientError) as e:
            logs.filter_log_events(logGroupName=group, **kwargs)
        assert error_code(e) == code
        return message(e)

    assert refused("InvalidParameterException", filterPattern="{ $.a = }") == \
        "Invalid filter pattern"
    refused("InvalidParameterException", filterPattern='"unterminated')
    refused("InvalidParameterException", logStreamNames=["json"], logStreamNamePrefix="j")
    assert refused("InvalidParameterException", nextToken="garbage!") == \
        "The specified nextToken is invalid."
    assert refused("InvalidParameterException", limit=10001) == (
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000")
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=group, logGroupIdentifier=group)
    assert error_code(e) == "ValidationException"
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    assert len(filter_all(logs, logGroupIdentifier=arn)) == len(everything)

    # The aws CLI paginates FilterLogEvents itself.
    out = server.aws("logs", "filter-log-events", "--log-group-name", group,
                     "--filter-pattern", '{ $.latency >= 100 }', "--page-size", "1")
    assert [e["message"] for e in json.loads(out.stdout)["events"]] == [J[0], J[2]]


FUNCTION = '''
import json

def handler(event, context):
    for line in event["lines"]:
        print(json.dumps(line))
    print("plain text line", event["marker"])
    return len(event["lines"])
'''


def test_filter_patterns_on_a_function_log_and_lambent_logs_filter(server, lam, logs, function):
    name = function({"app.py": FUNCTION})
    marker = uuid.uuid4().hex
    lines = [
        {"level": "ERROR", "latency": 250, "marker": marker, "op": "put"},
        {"level": "INFO", "latency": 20, "marker": marker, "op": "get"},
        {"level": "ERROR", "latency": 10, "marker": marker, "op": "get"},
    ]
    invoke(lam, name, {"lines": lines, "marker": marker})
    group = f"/aws/lambda/{name}"

    def messages(pattern):
        return [e["message"] for e in filter_all(logs, logGroupName=group, filterPattern=pattern)]

    errors = messages('{ $.level = "ERROR" }')
    assert [json.loads(m)["latency"] for m in errors] == [250, 10]
    assert [json.loads(m)["op"] for m in messages("{ $.level = ERROR && $.latency > 100 }")] == ["put"]
    assert len(messages("{ $.op = get || $.latency > 200 }")) == 3
    assert len(messages("{ $.marker EXISTS }")) == 3
    assert messages(f'"plain text line {marker}"') == [f"plain text line {marker}"]
    assert len(messages("START -END")) == 1
    assert len(messages("?START ?END")) == 2

    # `lambent logs --filter` speaks the same syntax.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run(
        [LAMBENT, "logs", name, "--filter", '{ $.level = "ERROR" }',
         "--data-dir", server.data_dir, "--endpoint", server.endpoint],
        capture_output=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr.decode()
    printed = out.stdout.decode().splitlines()
    assert [json.loads(line)["latency"] for line in printed] == [250, 10]
    bad = subprocess.run(
        [LAMBENT, "logs", name, "--filter", "{ $.level = }",
         "--data-dir", server.data_dir, "--endpoint", server.endpoint],
        capture_output=True, timeout=60, env=env,
    )
    assert bad.returncode != 0 and b"Invalid filter pattern" in bad.stderr


# -------------------------------------------------------------------------------- retention


def test_retention_deletes_old_events_from_disk(fresh_server):
    # Test knob: a retention "day" lasts one second, and the sweeper runs every "day".
    s = fresh_server(env={"LAMBENT_RETENTION_DAY_SECS": "1"})
    logs = s.client("logs")
    group, stream = "retention-test", "s1"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = now_ms()
    put(logs, group, stream, ["old-event-1", "old-event-2"], start=now - 60_000)
    # An hour ahead: not expired for a long while even in one-second days.
    put(logs, group, stream, ["future-event"], start=now + 3600_000)
    path = os.path.join(s.data_dir, "logs", group, stream + ".log")
    assert "old-event-1" in open(path).read()

    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    assert error_code(e) == "InvalidParameterException"
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14" in message(e)
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName=group + "-missing", retentionInDays=1)
    assert error_code(e) == "ResourceNotFoundException"

    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["retentionInDays"] == 1
    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["future-event"]

    deadline = time.time() + 15
    while time.time() < deadline and "old-event" in open(path).read():
        time.sleep(0.2)
    on_disk = open(path).read()
    assert "old-event" not in on_disk, "the sweeper did not delete the expired events"
    assert "future-event" in on_disk
    assert [e["message"] for e in filter_all(logs, logGroupName=group)] == ["future-event"]

    # New events older than the retention are refused, and reported.
    out = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now_ms() - 10_000, "message": "expired on arrival"},
        {"timestamp": now_ms() + 3600_000, "message": "fine"},
    ])
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}

    logs.delete_retention_policy(logGroupName=group)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert "retentionInDays" not in described
    # The policy survives a restart.
    logs.put_retention_policy(logGroupName=group, retentionInDays=3653)
    s.stop()
    s.start()
    logs = s.client("logs")
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 3653


# --------------------------------------------------------------------------- metric filters


def test_metric_filters_round_trip(server, lam, logs, function):
    name = function({"app.py": FUNCTION})
    group = f"/aws/lambda/{name}"
    transformation = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="errors",
                               filterPattern="ERROR", metricTransformations=[transformation])
    assert error_code(e) == "ResourceNotFoundException"
    # The function's group appears with its first invocation.
    invoke(lam, name, {"lines": [{"level": "INFO"}], "marker": "m"})

    logs.put_metric_filter(logGroupName=group, filterName="errors",
                           filterPattern='{ $.level = "ERROR" }',
                           metricTransformations=[transformation])
    logs.put_metric_filter(logGroupName=group, filterName="latency",
                           filterPattern="{ $.latency > 0 }",
                           metricTransformations=[{"metricName": "Latency",
                                                   "metricNamespace": "App",
                                                   "metricValue": "$.latency",
                                                   "defaultValue": 0.0, "unit": "Milliseconds"}])
    invoke(lam, name, {"lines": [{"level": "ERROR", "latency": 5}], "marker": "m"})

    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in filters] == ["errors", "latency"]
    f = filters[0]
    assert f["logGroupName"] == group and f["filterPattern"] == '{ $.level = "ERROR" }'
    assert f["metricTransformations"] == [transformation]
    assert abs(f["creationTime"] - now_ms()) < 60_000
    assert filters[1]["metricTransformations"][0]["defaultValue"] == 0.0
    assert filters[1]["metricTransformations"][0]["unit"] == "Milliseconds"
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2

    by_prefix = logs.describe_metric_filters(logGroupName=group, filterNamePrefix="lat")
    assert [f["filterName"] for f in by_prefix["metricFilters"]] == ["latency"]
    by_metric = logs.describe_metric_filters(metricName="Errors", metricNamespace="App")
    assert group in [f["logGroupName"] for f in by_metric["metricFilters"]]

    # Create-or-replace by name.
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR",
                           metricTransformations=[transformation])
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterPattern"] for f in filters] == ["ERROR", "{ $.latency > 0 }"]

    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="bad", filterPattern="{ $.x = ",
                               metricTransformations=[transformation])
    assert error_code(e) == "InvalidParameterException"

    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    with pytest.raises(ClientError) as e:
        logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert error_code(e) == "ResourceNotFoundException"
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["latency"]

    tested = logs.test_metric_filter(
        filterPattern="[ip, user, ..., status = 4*, bytes]",
        logEventMessages=['127.0.0.1 - frank "GET /a.html HTTP/1.0" 404 1534',
                          '127.0.0.1 - frank "GET /a.html HTTP/1.0" 200 1534'])
    assert len(tested["matches"]) == 1
    m = tested["matches"][0]
    assert m["eventNumber"] == 1
    assert m["extractedValues"]["$status"] == "404" and m["extractedValues"]["$4"] == "GET /a.html HTTP/1.0"
