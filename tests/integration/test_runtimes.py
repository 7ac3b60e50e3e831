"""The runtimes end to end: lambent's Python and Node.js runtimes, `provided*` with the
function's own `bootstrap`, AWS's Python runtime interface client, and the execution
environment every function sees, asserted against AWS Lambda's behaviour.

Sources for the expected values: /work/shared/spec/runtime-api.md, the AWS recordings in
/work/shared/spec/data/aws-recorded/lambda__test_lambda{,_common}.snapshot.json, and
awslambdaric / aws-lambda-nodejs-runtime-interface-client (the code AWS runs).
"""

import base64
import errno
import json
import os
import re
import sys
import time

import pytest

from conftest import ROLE, invoke, log_tail, make_zip, unique

ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
TRACE_RE = r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$"


def rid_of(resp):
    return resp["ResponseMetadata"]["RequestId"]


def stream_re(version):
    return re.compile(r"^\d{4}/\d{2}/\d{2}/\[" + re.escape(version) + r"\][0-9a-f]{32}$")


def fn_arn(lam, name):
    return lam.get_function_configuration(FunctionName=name)["FunctionArn"]


def assert_ok(resp):
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, resp


def assert_unhandled(resp, version="$LATEST"):
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled", resp
    assert resp.get("ExecutedVersion") == version, resp


# =========================================================================== Python

PY_CONTEXT = '''
def handler(event, context):
    cc = context.client_context
    client = None
    if cc is not None and cc.client is not None:
        client = {"installation_id": cc.client.installation_id, "app_title": cc.client.app_title}
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "client_context": None if cc is None else {"custom": cc.custom, "env": cc.env, "client": client},
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
    }
'''


def test_python_context_object(lam, function):
    name = function({"app.py": PY_CONTEXT}, MemorySize=256, Timeout=7)
    arn = fn_arn(lam, name)

    resp, ctx = invoke(lam, name, {})
    assert_ok(resp)
    assert ctx["aws_request_id"] == rid_of(resp)
    assert ctx["function_name"] == name
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == arn
    assert ctx["memory_limit_in_mb"] == "256"  # a string in awslambdaric (recorded: "1024")
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert stream_re("$LATEST").match(ctx["log_stream_name"]), ctx["log_stream_name"]
    assert 0 < ctx["remaining"] <= 7000
    assert ctx["remaining"] > 5000  # the handler ran right away
    assert ctx["client_context"] is None
    assert ctx["identity"] == [None, None]

    client_context = {
        "custom": {"foo": "bar"},
        "env": {"fizz": "buzz"},
        "client": {"installation_id": "inst-1", "app_title": "my app"},
    }
    resp, ctx = invoke(
        lam, name, {}, Qualifier="$LATEST",
        ClientContext=base64.b64encode(json.dumps(client_context).encode()).decode(),
    )
    assert_ok(resp)
    assert ctx["aws_request_id"] == rid_of(resp)
    assert ctx["invoked_function_arn"] == f"{arn}:$LATEST"
    assert ctx["client_context"] == {
        "custom": {"foo": "bar"},
        "env": {"fizz": "buzz"},
        "client": {"installation_id": "inst-1", "app_title": "my app"},
    }

    version = lam.publish_version(FunctionName=name)["Version"]
    resp, ctx = invoke(lam, name, {}, Qualifier=version)
    assert_ok(resp)
    assert ctx["function_version"] == version
    assert ctx["invoked_function_arn"] == f"{arn}:{version}"
    assert stream_re(version).match(ctx["log_stream_name"]), ctx["log_stream_name"]


def test_python_handler_in_subfolder(lam, function):
    name = function(
        {"dir/sub/mod.py": "from dir.sub import helper\n"
                           "def handler(event, context):\n    return {'sub': helper.VALUE, 'e': event}\n",
         "dir/sub/helper.py": "VALUE = 'deep'\n"},
        handler="dir/sub/mod.handler",
    )
    resp, body = invoke(lam, name, {"x": 1})
    assert_ok(resp)
    assert body == {"sub": "deep", "e": {"x": 1}}


PY_RAISES = '''
class MyCustomError(Exception):
    pass


def handler(event, context):
    if event.get("fail"):
        raise MyCustomError("something went wrong: " + event["fail"])
    return {"ok": True}
'''

PY_GOOD = "def handler(event, context):\n    return {'fixed': True}\n"


def test_python_handler_exception(lam, function):
    name = function({"app.py": PY_RAISES})
    resp, body = invoke(lam, name, {"fail": "boom"}, LogType="Tail")
    assert_unhandled(resp)
    rid = rid_of(resp)
    assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert body["errorType"] == "MyCustomError"
    assert body["errorMessage"] == "something went wrong: boom"
    assert body["requestId"] == rid
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert all(isinstance(line, str) for line in body["stackTrace"])
    # Only the user's frames (recorded test_lambda_handler_error: one frame for a direct raise).
    assert len(body["stackTrace"]) == 1, body["stackTrace"]
    assert 'raise MyCustomError("something went wrong: " + event["fail"])' in body["stackTrace"][-1]
    assert ", in handler\n" in body["stackTrace"][-1]
    # awslambdaric's error log record: one line, "[ERROR] <type>: <message>\rTraceback ..."
    tail = log_tail(resp)
    assert "[ERROR] MyCustomError: something went wrong: boom\rTraceback (most recent call last):" in tail

    # The same environment keeps serving.
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body == {"ok": True}


def _fix_and_reinvoke(lam, name, files=None, handler=None):
    if files is not None:
        lam.update_function_code(FunctionName=name, ZipFile=make_zip(files))
    if handler is not None:
        lam.update_function_configuration(FunctionName=name, Handler=handler)
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    return body


def test_python_import_module_error(lam, function):
    name = function({"app.py": PY_GOOD}, handler="missing.handler")
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    # An init error: awslambdaric posts it to /init/error without a request id.
    assert body == {
        "errorMessage": "Unable to import module 'missing': No module named 'missing'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    # Still broken on the next invoke (init is retried, fails again)...
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body["errorType"] == "Runtime.ImportModuleError"
    # ...and fixed by the update.
    assert _fix_and_reinvoke(lam, name, handler="app.handler") == {"fixed": True}


def test_python_exception_during_init(lam, function):
    name = function({"app.py": 'raise Exception("Runtime startup fails")\n' + PY_GOOD})
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    # Recorded (test_lambda_runtime_error): the exception's class, no request id, the
    # import frames ending in the user's module.
    assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert body["errorType"] == "Exception"
    assert body["errorMessage"] == "Runtime startup fails"
    assert body["requestId"] == ""
    assert 'raise Exception("Runtime startup fails")' in body["stackTrace"][-1]
    assert "app.py" in body["stackTrace"][-1]
    assert _fix_and_reinvoke(lam, name, files={"app.py": PY_GOOD}) == {"fixed": True}


def test_python_import_error_inside_module(lam, function):
    name = function({"app.py": "import not_installed_pkg_xyz\n" + PY_GOOD})
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'app': No module named 'not_installed_pkg_xyz'"
    assert _fix_and_reinvoke(lam, name, files={"app.py": PY_GOOD}) == {"fixed": True}


def test_python_handler_not_found(lam, function):
    name = function({"app.py": PY_GOOD}, handler="app.nope")
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body == {
        "errorMessage": "Handler 'nope' missing on module 'app'",
        "errorType": "Runtime.HandlerNotFound",
        "requestId": "",
        "stackTrace": [],
    }
    assert _fix_and_reinvoke(lam, name, handler="app.handler") == {"fixed": True}


def test_python_user_code_syntax_error(lam, function):
    name = function({"app.py": "def handler(event, context:\n    return 1\n"})
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'app': ")
    assert body["requestId"] == ""
    assert len(body["stackTrace"]) == 1 and "app.py" in body["stackTrace"][0]
    assert _fix_and_reinvoke(lam, name, files={"app.py": PY_GOOD}) == {"fixed": True}


def test_python_marshal_error(lam, function):
    name = function({"app.py": "def handler(event, context):\n"
                               "    return {1, 2} if event.get('set') else {'plain': True}\n"})
    resp, body = invoke(lam, name, {"set": True})
    assert_unhandled(resp)
    assert body == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": rid_of(resp),
        "stackTrace": [],
    }
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body == {"plain": True}


def test_python_print_and_logging_in_tail(lam, function):
    name = function({"app.py": "import logging\nlogging.getLogger().setLevel(logging.INFO)\n"
                               "def handler(event, context):\n"
                               "    print('plain print line')\n"
                               "    logging.info('via logging')\n"
                               "    return 1\n"})
    resp, body = invoke(lam, name, {}, LogType="Tail")
    assert_ok(resp)
    lines = log_tail(resp).split("\n")
    assert "plain print line" in lines
    rid = rid_of(resp)
    assert any(re.match(rf"^\[INFO\]\t{ISO_MS}\t{rid}\tvia logging$", line) for line in lines), lines


# =========================================================================== Node.js

NODE_ASYNC = '''
exports.handler = async (event, context) => {
  return {
    event,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    invokedFunctionArn: context.invokedFunctionArn,
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    clientContext: context.clientContext === undefined ? "undefined" : context.clientContext,
    remaining: context.getRemainingTimeInMillis(),
    execEnv: process.env.AWS_EXECUTION_ENV,
  };
};
'''


@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs20.x", "nodejs22.x"])
def test_node_async_handler_and_context(lam, function, runtime):
    name = function({"index.js": NODE_ASYNC}, runtime=runtime, handler="index.handler", Timeout=6)
    arn = fn_arn(lam, name)
    cc = {"custom": {"foo": "bar"}, "env": {"fizz": "buzz"}, "client": {"snap": ["crackle", "pop"]}}
    resp, body = invoke(lam, name, {"hello": "node"},
                        ClientContext=base64.b64encode(json.dumps(cc).encode()).decode())
    assert_ok(resp)
    assert body["event"] == {"hello": "node"}
    assert body["awsRequestId"] == rid_of(resp)
    assert body["functionName"] == name
    assert body["functionVersion"] == "$LATEST"
    assert body["memoryLimitInMB"] == "128"  # recorded: a string
    assert body["logGroupName"] == f"/aws/lambda/{name}"
    assert stream_re("$LATEST").match(body["logStreamName"])
    assert body["invokedFunctionArn"] == arn
    assert body["callbackWaitsForEmptyEventLoop"] is True
    assert body["clientContext"] == cc
    assert 4000 < body["remaining"] <= 6000
    assert body["execEnv"] == f"AWS_Lambda_{runtime}"


def test_node_callback_handler(lam, function):
    name = function(
        {"index.js": "exports.handler = (event, context, callback) => {\n"
                     "  setTimeout(() => callback(null, {via: 'callback', n: event.n * 2}), 20);\n"
                     "};\n"},
        runtime="nodejs20.x", handler="index.handler")
    resp, body = invoke(lam, name, {"n": 21})
    assert_ok(resp)
    assert body == {"via": "callback", "n": 42}

    # callback(error) is a function error with the Error's name.
    name2 = function(
        {"index.js": "exports.handler = (event, context, callback) => {\n"
                     "  callback(new TypeError('bad type'));\n"
                     "};\n"},
        runtime="nodejs20.x", handler="index.handler")
    resp, body = invoke(lam, name2, {})
    assert_unhandled(resp)
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "bad type"
    assert body["trace"][0] == "TypeError: bad type"


NODE_CONTEXT_METHODS = '''
exports.handler = function (event, context) {
  if (event.mode === "succeed") {
    context.succeed({ via: "succeed" });
  } else if (event.mode === "done") {
    context.done(null, { via: "done" });
  } else if (event.mode === "done-error") {
    context.done(new Error("done with error"));
  } else {
    context.fail(new Error("failed on purpose"));
  }
};
'''


def test_node_context_done_succeed_fail(lam, function):
    name = function({"index.js": NODE_CONTEXT_METHODS}, runtime="nodejs20.x", handler="index.handler")
    resp, body = invoke(lam, name, {"mode": "succeed"})
    assert_ok(resp)
    assert body == {"via": "succeed"}
    resp, body = invoke(lam, name, {"mode": "done"})
    assert_ok(resp)
    assert body == {"via": "done"}
    resp, body = invoke(lam, name, {"mode": "fail"})
    assert_unhandled(resp)
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "failed on purpose"
    resp, body = invoke(lam, name, {"mode": "done-error"})
    assert_unhandled(resp)
    assert body["errorMessage"] == "done with error"
    resp, body = invoke(lam, name, {"mode": "succeed"})
    assert_ok(resp)


def test_node_remaining_time(lam, function):
    name = function(
        {"index.js": "exports.handler = async (event, context) => {\n"
                     "  const a = context.getRemainingTimeInMillis();\n"
                     "  await new Promise((r) => setTimeout(r, 300));\n"
                     "  return [a, context.getRemainingTimeInMillis()];\n"
                     "};\n"},
        runtime="nodejs20.x", handler="index.handler", Timeout=9)
    resp, (a, b) = invoke(lam, name, {})
    assert_ok(resp)
    assert 7000 < a <= 9000
    assert 250 <= a - b < 2000


def test_node_esm_mjs_handler(lam, function):
    name = function(
        {"app.mjs": "import { sep } from 'node:path';\n"
                    "export const handler = async (event) => ({ esm: true, sep, event });\n"},
        runtime="nodejs20.x", handler="app.handler")
    resp, body = invoke(lam, name, {"m": 1})
    assert_ok(resp)
    assert body == {"esm": True, "sep": "/", "event": {"m": 1}}


def test_node_handler_in_subfolder(lam, function):
    name = function(
        {"src/lib/app.js": "const h = require('./helper');\n"
                           "exports.handler = async (e) => ({ sub: h.value, e });\n",
         "src/lib/helper.js": "exports.value = 'deep';\n"},
        runtime="nodejs20.x", handler="src/lib/app.handler")
    resp, body = invoke(lam, name, {"x": 2})
    assert_ok(resp)
    assert body == {"sub": "deep", "e": {"x": 2}}


def test_node_thrown_error(lam, function):
    name = function(
        {"index.js": "exports.handler = async (event) => {\n"
                     "  if (event.fail) throw new Error(event.fail);\n"
                     "  return { ok: true };\n"
                     "};\n"},
        runtime="nodejs20.x", handler="index.handler")
    resp, body = invoke(lam, name, {"fail": "some_error_msg"}, LogType="Tail")
    assert_unhandled(resp)
    assert set(body) == {"errorType", "errorMessage", "trace"}  # recorded shape (nodejs20.x)
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "some_error_msg"
    assert isinstance(body["trace"], list)
    assert body["trace"][0] == "Error: some_error_msg"
    assert any("index.js" in line for line in body["trace"][1:])
    rid = rid_of(resp)
    assert re.search(rf"(?m)^{ISO_MS}\t{rid}\tERROR\tInvoke Error \t", log_tail(resp)), log_tail(resp)

    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body == {"ok": True}


def test_node_import_module_error(lam, function):
    good = {"index.js": "exports.handler = async () => 'fixed';\n"}
    name = function(good, runtime="nodejs20.x", handler="missing.handler")
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'missing'")
    assert body["trace"][0].startswith("Runtime.ImportModuleError: Error: Cannot find module 'missing'")
    lam.update_function_configuration(FunctionName=name, Handler="index.handler")
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body == "fixed"


def test_node_handler_not_found(lam, function):
    name = function({"index.js": "exports.other = async () => 'other';\n"},
                    runtime="nodejs20.x", handler="index.handler")
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.handler is undefined or not exported"
    assert body["trace"][0] == "Runtime.HandlerNotFound: index.handler is undefined or not exported"
    lam.update_function_code(FunctionName=name,
                             ZipFile=make_zip({"index.js": "exports.handler = async () => 'fixed';\n"}))
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body == "fixed"


def test_node_console_log_format(lam, function):
    name = function(
        {"index.js": "exports.handler = async () => {\n"
                     "  console.log('hello %s', 'world', 42);\n"
                     "  console.error('oops');\n"
                     "  console.warn({a: 1});\n"
                     "  return 1;\n"
                     "};\n"},
        runtime="nodejs20.x", handler="index.handler")
    resp, _ = invoke(lam, name, {}, LogType="Tail")
    assert_ok(resp)
    rid = rid_of(resp)
    lines = log_tail(resp).split("\n")
    assert any(re.match(rf"^{ISO_MS}\t{rid}\tINFO\thello world 42$", line) for line in lines), lines
    assert any(re.match(rf"^{ISO_MS}\t{rid}\tERROR\toops$", line) for line in lines), lines
    assert any(re.match(rf"^{ISO_MS}\t{rid}\tWARN\t{{ a: 1 }}$", line) for line in lines), lines


# =========================================================================== provided.*

SHELL_BOOTSTRAP = r'''#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HDRS="${TMPDIR:-/tmp}/next-headers.$$"
header() {
  grep -i "^$1:" "$HDRS" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}
while true; do
  EVENT=$(curl -sS -D "$HDRS" "$API/invocation/next")
  RID=$(header Lambda-Runtime-Aws-Request-Id)
  if [ "$_HANDLER" = "echo" ]; then
    BODY="$EVENT"
  else
    BODY=$(printf '{"event":%s,"rid":"%s","deadline":"%s","arn":"%s","trace":"%s","handler":"%s","exec_env":"%s","cwd":"%s","task_root":"%s"}' \
      "$EVENT" "$RID" "$(header Lambda-Runtime-Deadline-Ms)" \
      "$(header Lambda-Runtime-Invoked-Function-Arn)" "$(header Lambda-Runtime-Trace-Id)" \
      "$_HANDLER" "${AWS_EXECUTION_ENV:-}" "$(pwd)" "$LAMBDA_TASK_ROOT")
  fi
  curl -sS -o /dev/null -X POST --data-binary "$BODY" "$API/invocation/$RID/response"
done
'''


RAPI_BOOTSTRAP = r'''#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HDRS="${TMPDIR:-/tmp}/next-headers.$$"
STATE="${TMPDIR:-/tmp}/state.$$"
if [ "$_HANDLER" = "initerror" ]; then
  curl -sS -o /dev/null -X POST -H "Lambda-Runtime-Function-Error-Type: Runtime.Custom" \
    --data-binary '{"errorMessage":"init failed on purpose","errorType":"Runtime.Custom"}' "$API/init/error"
  exit 1
fi
while true; do
  EVENT=$(curl -sS -D "$HDRS" "$API/invocation/next")
  RID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HDRS" | head -n 1 | cut -d: -f2- | tr -d '\r ')
  case "$_HANDLER" in
    error)
      curl -sS -o /dev/null -X POST -H "Lambda-Runtime-Function-Error-Type: Function.Custom" \
        --data-binary '{"errorMessage":"custom failure","errorType":"CustomError","stackTrace":["a","b"]}' \
        "$API/invocation/$RID/error"
      ;;
    double)
      if [ -f "$STATE" ]; then
        curl -sS -o /dev/null -X POST --data-binary "@$STATE" "$API/invocation/$RID/response"
      else
        curl -sS -o /dev/null -X POST --data-binary '"first"' "$API/invocation/$RID/response"
        CODE=$(curl -sS -o "$STATE.body" -w '%{http_code}' -X POST --data-binary '"second"' \
          "$API/invocation/$RID/response")
        printf '{"status":%s,"body":%s}' "$CODE" "$(cat "$STATE.body")" > "$STATE.tmp"
        mv "$STATE.tmp" "$STATE"
      fi
      ;;
    lateiniterror)
      # An init error during the invocation, and (kept for the next one) between two.
      CODE=$(curl -sS -o "$STATE.body" -w '%{http_code}' -X POST \
        -H "Lambda-Runtime-Function-Error-Type: Runtime.Late" \
        --data-binary '{"errorMessage":"too late","errorType":"Runtime.Late"}' "$API/init/error")
      BETWEEN=$(cat "$STATE" 2>/dev/null || echo null)
      printf '{"status":%s,"body":%s,"between":%s,"event":%s}' \
        "$CODE" "$(cat "$STATE.body")" "$BETWEEN" "$EVENT" > "$STATE.out"
      curl -sS -o /dev/null -X POST --data-binary "@$STATE.out" "$API/invocation/$RID/response"
      CODE=$(curl -sS -o "$STATE.body" -w '%{http_code}' -X POST \
        --data-binary '{"errorMessage":"later","errorType":"Runtime.Late"}' "$API/init/error")
      printf '{"status":%s,"body":%s}' "$CODE" "$(cat "$STATE.body")" > "$STATE"
      ;;
  esac
done
'''


def test_provided_runtime_posts_error(lam, function):
    name = function({"bootstrap": (RAPI_BOOTSTRAP, 0o755)}, runtime="provided.al2023", handler="error")
    for _ in range(2):
        resp = lam.invoke(FunctionName=name, Payload=b"{}")
        assert_unhandled(resp)
        # The client gets exactly what the runtime posted to /error.
        assert resp["Payload"].read() == (
            b'{"errorMessage":"custom failure","errorType":"CustomError","stackTrace":["a","b"]}'
        )


def test_provided_runtime_init_error(lam, function):
    name = function({"bootstrap": (RAPI_BOOTSTRAP, 0o755)}, runtime="provided.al2023", handler="initerror")
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    assert_unhandled(resp)
    assert json.loads(resp["Payload"].read()) == {
        "errorMessage": "init failed on purpose", "errorType": "Runtime.Custom"}
    # The environment is started again for the next invoke, and fails again the same way.
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    assert_unhandled(resp)
    assert json.loads(resp["Payload"].read())["errorType"] == "Runtime.Custom"


def test_provided_init_error_after_init_is_refused_and_the_invocation_goes_on(lam, function):
    name = function({"bootstrap": (RAPI_BOOTSTRAP, 0o755)}, runtime="provided.al2023",
                    handler="lateiniterror")
    refused = {
        "errorType": "InvalidStateTransition",
        "errorMessage": "State transition from Running to InitError failed for runtime. "
                        "Error: State transition is not allowed",
    }
    resp, body = invoke(lam, name, {"n": 1})
    assert_ok(resp)
    assert body == {"status": 403, "body": refused, "between": None, "event": {"n": 1}}
    # The environment is still the same one, and its refusal between invocations too.
    resp, body = invoke(lam, name, {"n": 2})
    assert_ok(resp)
    assert body == {"status": 403, "body": refused, "between": {"status": 403, "body": refused},
                    "event": {"n": 2}}


def test_provided_second_response_for_same_request_is_rejected(lam, function):
    name = function({"bootstrap": (RAPI_BOOTSTRAP, 0o755)}, runtime="provided.al2023", handler="double")
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    assert_ok(resp)
    assert resp["Payload"].read() == b'"first"'
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body == {"status": 400, "body": {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"}}


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_provided_shell_bootstrap_echoes_event(lam, function, runtime):
    assert os.path.exists("/usr/bin/curl") or os.path.exists("/bin/curl")
    name = function({"bootstrap": (SHELL_BOOTSTRAP, 0o755)}, runtime=runtime, handler="echo")
    payload = '{"a": [1, 2,  3],  "s": "h\u00e9llo \\"q\\"", "n": null}'.encode()
    for _ in range(2):  # a second invoke goes to the same bootstrap loop
        resp = lam.invoke(FunctionName=name, Payload=payload)
        assert_ok(resp)
        assert resp["Payload"].read() == payload


def test_provided_next_headers(lam, function):
    name = function({"bootstrap": (SHELL_BOOTSTRAP, 0o755)}, runtime="provided.al2023",
                    handler="function.handler", Timeout=5)
    arn = fn_arn(lam, name)
    before = int(time.time() * 1000)
    resp, body = invoke(lam, name, {"k": "v"})
    after = int(time.time() * 1000)
    assert_ok(resp)
    assert body["event"] == {"k": "v"}
    assert body["rid"] == rid_of(resp)
    deadline = int(body["deadline"])
    assert before + 4000 <= deadline <= after + 5000 + 500, (before, deadline, after)
    assert body["arn"] == arn
    assert re.match(TRACE_RE, body["trace"]), body["trace"]
    assert body["handler"] == "function.handler"
    assert body["exec_env"] == ""  # AWS_EXECUTION_ENV is not set for provided runtimes
    assert body["cwd"] == body["task_root"]

    resp, body = invoke(lam, name, {}, Qualifier="$LATEST")
    assert_ok(resp)
    assert body["arn"] == f"{arn}:$LATEST"
    assert body["rid"] == rid_of(resp)


def test_provided_bootstrap_not_executable(lam, function):
    name = function({"bootstrap": (SHELL_BOOTSTRAP, 0o644)}, runtime="provided.al2023", handler="echo")
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    rid = rid_of(resp)
    # AWS (e.g. awslabs/aws-lambda-dart-runtime#20):
    assert body == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {rid} Error: fork/exec /var/task/bootstrap: permission denied",
    }
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"bootstrap": (SHELL_BOOTSTRAP, 0o755)}))
    resp = lam.invoke(FunctionName=name, Payload=b'{"fixed": 1}')
    assert_ok(resp)
    assert resp["Payload"].read() == b'{"fixed": 1}'


def test_provided_bootstrap_missing(lam, function):
    name = function({"README.txt": "no bootstrap here\n"}, runtime="provided.al2023", handler="echo")
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    rid = rid_of(resp)
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert body["errorMessage"].startswith(f"RequestId: {rid} Error: ")
    assert "bootstrap" in body["errorMessage"]


# =========================================================================== awslambdaric

RIC_APP = '''
def handler(event, context):
    if event.get("fail"):
        raise ValueError("ric says " + event["fail"])
    return {"ric": True, "event": event, "rid": context.aws_request_id,
            "arn": context.invoked_function_arn}
'''


def ric_bootstrap():
    # As AWS documents for custom runtimes: the client is vendored into the archive (see
    # ric_files) and started with the image's python3.
    return "#!/bin/sh\nexport PYTHONPATH=\"$LAMBDA_TASK_ROOT\"\nexec python3 -m awslambdaric app.handler\n"


def ric_files():
    """awslambdaric and its dependencies, copied from the test venv as `pip install --target`
    would lay them out in a function's archive (each distribution's RECORD lists its files)."""
    from importlib.metadata import distribution
    files = {}
    for dist in ("awslambdaric", "simplejson", "snapshot-restore-py"):
        for f in distribution(dist).files or []:
            path = f.locate()
            if "__pycache__" in f.parts or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                files[str(f)] = (fh.read(), 0o755 if str(f).endswith(".so") else 0o644)
    return files


def test_awslambdaric_python_client(lam, function):
    name = function({"bootstrap": (ric_bootstrap(), 0o755), "app.py": RIC_APP, **ric_files()},
                    runtime="provided.al2023", handler="app.handler", Timeout=30)
    arn = fn_arn(lam, name)
    resp, body = invoke(lam, name, {"hello": "ric"})
    assert_ok(resp)
    assert body == {"ric": True, "event": {"hello": "ric"}, "rid": rid_of(resp), "arn": arn}

    resp, body = invoke(lam, name, {"fail": "no"})
    assert_unhandled(resp)
    assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "ric says no"
    assert body["requestId"] == rid_of(resp)
    assert any("raise ValueError" in line for line in body["stackTrace"])

    resp, body = invoke(lam, name, {"again": 1})
    assert_ok(resp)
    assert body["event"] == {"again": 1}


def test_awslambdaric_import_error(lam, function):
    name = function({"bootstrap": (ric_bootstrap(), 0o755), "other.py": RIC_APP, **ric_files()},
                    runtime="provided.al2023", handler="app.handler", Timeout=30)
    resp, body = invoke(lam, name, {})
    assert_unhandled(resp)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'app': No module named 'app'"


# =========================================================================== environment

PY_ENV = '''
import os


def handler(event, context):
    root = os.environ.get("LAMBDA_TASK_ROOT", "")
    return {
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "listing": sorted(os.listdir(root)) if root else [],
    }
'''


def test_environment_variables(lam, function):
    name = function({"app.py": PY_ENV, "data.txt": "d"}, MemorySize=192,
                    Environment={"Variables": {"MY_VAR": "my value", "OTHER": "2"}})
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert stream_re("$LATEST").match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert re.match(r"^[0-9.]+:\d+$", env["AWS_LAMBDA_RUNTIME_API"]), env["AWS_LAMBDA_RUNTIME_API"]
    assert env["LAMBDA_TASK_ROOT"] == body["cwd"]
    assert {"app.py", "data.txt"} <= set(body["listing"])
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    assert env["MY_VAR"] == "my value"
    assert env["OTHER"] == "2"
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_SESSION_TOKEN"]


def test_environment_is_isolated_from_lambent(fresh_server):
    s = fresh_server(env={"LAMBENT_TEST_MARKER": "x-marker-value"})
    lam = s.client("lambda")
    name = unique()
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": make_zip({"app.py": PY_ENV})})
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    env = body["env"]
    assert "LAMBENT_TEST_MARKER" not in env
    assert all("x-marker-value" not in v for v in env.values())
    root_key, root_secret = s.credentials()
    assert env["AWS_ACCESS_KEY_ID"] != root_key
    assert all(root_key not in v and root_secret not in v for v in env.values())
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["AWS_SESSION_TOKEN"]
    # Nothing else of the host's environment leaks in either.
    for k in ("HOME", "VIRTUAL_ENV", "PYENV_ROOT", "CARGO_HOME", "PYTEST_CURRENT_TEST"):
        if k in os.environ:
            assert env.get(k) != os.environ[k], k


PY_WRITES = '''
import os
import tempfile


def handler(event, context):
    out = {}
    for where in (os.environ["LAMBDA_TASK_ROOT"], tempfile.gettempdir()):
        try:
            with open(os.path.join(where, "written-by-handler.txt"), "w") as f:
                f.write("x")
            out[where] = "written"
        except OSError as e:
            out[where] = e.errno
    return {"task_root": os.environ["LAMBDA_TASK_ROOT"], "tmp": tempfile.gettempdir(), "results": out}
'''


def test_task_root_is_read_only_and_tmp_is_writable(lam, function):
    # AWS extracts the code read-only to /var/task; /tmp is the writable scratch space.
    name = function({"app.py": PY_WRITES})
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert body["results"][body["tmp"]] == "written"
    assert body["results"][body["task_root"]] in (errno.EROFS, errno.EACCES), body


PY_CALLS_LAMBENT = '''
import boto3


def handler(event, context):
    client = boto3.client("lambda")
    names = [f["FunctionName"] for f in client.list_functions()["Functions"]]
    own = client.get_function_configuration(FunctionName=context.function_name)
    return {"names": names, "own_arn": own["FunctionArn"]}
'''


def test_function_calls_lambent_with_its_temporary_credentials(lam, function):
    name = function({"app.py": PY_CALLS_LAMBENT}, Timeout=30)
    resp, body = invoke(lam, name, {})
    assert_ok(resp)
    assert name in body["names"]
    assert body["own_arn"] == fn_arn(lam, name)
