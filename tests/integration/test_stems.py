"""Stems: environments started before their function is known, taken by cold starts.

Each test starts its own server with one stem per interpreter that its functions use (and
one for `provided`), creates a function (which starts its interpreter's stems), waits for
the stem's process (an unprivileged user of its own), and checks that the function that
takes it runs as that user with exactly its own environment, code, limits and nothing of
the host.
"""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import LAMBENT, ROLE, invoke, log_tail, make_zip, unique

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="stems need root (namespaces)")


def stem_uids(server, marker):
    """Users of `server`'s waiting stems whose command line contains `marker`: processes
    whose parent (the stem's init) is a child of a child (the stem's waiter) of that lambent."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,ppid=,uid=,args="],
                         capture_output=True, text=True).stdout
    procs = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            procs[int(parts[0])] = (int(parts[1]), int(parts[2]), parts[3])
    uids = []
    for pid, (ppid, uid, args) in procs.items():
        init = procs.get(ppid)
        waiter = init and procs.get(init[0])
        if marker in args and uid >= 200_000 and waiter and waiter[0] == server.proc.pid:
            uids.append(uid)
    return uids


def stems_by_version(server):
    """`lambent_stems_ready` per (runtime family, interpreter version), from
    `/_lambent/metrics` (the version is empty for `provided`)."""
    with urllib.request.urlopen(server.endpoint + "/_lambent/metrics", timeout=10) as r:
        text = r.read().decode()
    ready = {}
    for line in text.splitlines():
        if line.startswith("lambent_stems_ready{"):
            family = line.split('runtime="', 1)[1].split('"', 1)[0]
            version = line.split('version="', 1)[1].split('"', 1)[0] if 'version="' in line else ""
            ready[(family, version)] = int(float(line.rsplit(" ", 1)[1]))
    return ready


def stems_ready(server):
    """`lambent_stems_ready` per runtime family (all its interpreters together)."""
    ready = {}
    for (family, _), n in stems_by_version(server).items():
        ready[family] = ready.get(family, 0) + n
    return ready


def wait_for_stem(server, marker):
    """The users of the stems running `marker`, once the pool has them (a stem's process
    shows a moment before lambent files it as ready)."""
    family = "python" if marker.endswith(".py") else "node" if marker.endswith(".js") else "provided"
    deadline = time.time() + 15
    while time.time() < deadline:
        uids = stem_uids(server, marker)
        if uids and stems_ready(server).get(family, 0) > 0:
            return uids
        time.sleep(0.05)
    raise AssertionError(f"no stem running {marker}")


PROBE = """
import json, os, resource, sys
def handler(event, context):
    st = os.statvfs("/tmp")
    limit = open("/sys/fs/cgroup/memory/memory.limit_in_bytes").read().strip() \\
        if os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") else None
    return {
        "uid": os.getuid(),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "tmp_bytes": st.f_blocks * st.f_frsize,
        "host_tree": os.path.exists("/.host"),
        "open_files": resource.getrlimit(resource.RLIMIT_NOFILE),
        "task": sorted(os.listdir("/var/task")),
        "sys_path": sys.path[:2],
    }
"""


def test_a_python_cold_start_takes_the_stem_and_becomes_the_function(fresh_server):
    s = fresh_server("--stems", "1")
    lam = s.client("lambda")
    name = unique("stem-py")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": make_zip({"app.py": PROBE})}, EphemeralStorage={"Size": 1024},
        Environment={"Variables": {"GREETING": "hello"}},
    )
    # Creating the function started a stem of its interpreter.
    stems = wait_for_stem(s, "/var/runtime/bootstrap.py")
    resp, out = invoke(lam, name, {}, LogType="Tail")
    assert out["uid"] in stems, "the cold start did not take the waiting stem"
    assert "Init Duration" in log_tail(resp)
    env = out["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert "_LAMBENT_STEM" not in env
    assert out["cwd"] == "/var/task"
    assert out["task"] == ["app.py"]
    assert out["sys_path"][0] == "/var/task"
    # The stem's 512 MB /tmp disk was replaced by one of the function's size (ext4's own
    # metadata makes it a little under).
    assert 1023 * 1024 * 1024 <= out["tmp_bytes"] <= 1024 * 1024 * 1024, out["tmp_bytes"]
    assert out["host_tree"] is False
    # AWS's cap, not lambent's own (raised) limit.
    assert out["open_files"] == [1024, 1024]
    # The next stem is started for the next cold start.
    assert wait_for_stem(s, "/var/runtime/bootstrap.py")


def test_a_stem_started_function_gets_its_memory_cap(fresh_server):
    s = fresh_server("--stems", "1")
    lam = s.client("lambda")
    name = unique("stem-oom")
    code = "import os\ndef handler(e, c):\n    if e.get('eat'):\n        b = bytearray(400 * 1024 * 1024)\n        b[::4096] = b'x' * len(b[::4096])\n    return os.getuid()\n"
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
        MemorySize=128, Code={"ZipFile": make_zip({"app.py": code})},
    )
    stems = wait_for_stem(s, "/var/runtime/bootstrap.py")
    _, uid = invoke(lam, name, {})
    assert uid in stems
    resp, out = invoke(lam, name, {"eat": True})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.OutOfMemory", out


def test_interpreter_variables_start_the_slow_way_and_take_effect(fresh_server):
    """`PYTHONPATH` is read when the interpreter starts: a stem started without it cannot
    honour it, so such a function starts its own interpreter."""
    s = fresh_server("--stems", "1")
    lam = s.client("lambda")
    name = unique("stem-pythonpath")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": make_zip({"app.py": PROBE})},
        Environment={"Variables": {"PYTHONPATH": "/var/task/vendor"}},
    )
    stems = wait_for_stem(s, "/var/runtime/bootstrap.py")
    _, out = invoke(lam, name, {})
    assert out["uid"] not in stems
    assert out["env"]["PYTHONPATH"] == "/var/task/vendor"
    # The interpreter read it at start: it is on the import path, right after the code.
    assert out["sys_path"][1] == "/var/task/vendor"


def test_node_and_provided_cold_starts_take_their_stems(fresh_server):
    s = fresh_server("--stems", "1")
    lam = s.client("lambda")
    node = unique("stem-node")
    lam.create_function(
        FunctionName=node, Runtime="nodejs20.x", Handler="index.handler", Role=ROLE,
        Code={"ZipFile": make_zip({"index.js": (
            "exports.handler = async () => ({uid: process.getuid(), cwd: process.cwd(),"
            " greeting: process.env.GREETING, stem: process.env._LAMBENT_STEM ?? null});"
        )})},
        Environment={"Variables": {"GREETING": "hi"}},
    )
    node_stems = wait_for_stem(s, "/var/runtime/bootstrap.js")
    _, out = invoke(lam, node, {})
    assert out == {"uid": out["uid"], "cwd": "/var/task", "greeting": "hi", "stem": None}
    assert out["uid"] in node_stems

    provided = unique("stem-provided")
    bootstrap = """#!/bin/sh
set -eu
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
while true; do
  headers=$(mktemp)
  curl -sS -D "$headers" -o /dev/null "$api/next"
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$headers" | tr -d '\\r' | cut -d' ' -f2)
  printf '{"uid": %s, "cwd": "%s", "greeting": "%s"}' "$(id -u)" "$(pwd)" "$GREETING" \\
    | curl -sS -o /dev/null -X POST --data-binary @- "$api/$id/response"
done
"""
    lam.create_function(
        FunctionName=provided, Runtime="provided.al2023", Handler="x", Role=ROLE,
        Code={"ZipFile": make_zip({"bootstrap": (bootstrap, 0o755)})},
        Environment={"Variables": {"GREETING": "bonjour"}},
    )
    # A provided stem runs no program until assigned: its PID 1 waits as a copy of lambent
    # (same command line), already under the stem's user.
    provided_stems = wait_for_stem(s, "up --listen 127.0.0.1:0")
    _, out = invoke(lam, provided, {})
    assert out == {"uid": out["uid"], "cwd": "/var/task", "greeting": "bonjour"}
    assert out["uid"] in provided_stems


VERSION = "import os, sys\ndef handler(e, c):\n    return {'uid': os.getuid(), 'version': list(sys.version_info[:2])}\n"


def served_exactly(runtime):
    """Whether `lambent doctor` says this host has the runtime's own version."""
    out = subprocess.run([LAMBENT, "doctor"], capture_output=True, text=True, timeout=120).stdout
    return any(line.strip().startswith(f"{runtime} → ") and line.rstrip().endswith(", exact")
               for line in out.splitlines())


def test_stems_are_per_interpreter_and_only_for_the_ones_functions_use(fresh_server):
    for runtime in ("python3.11", "python3.12"):
        if not served_exactly(runtime):
            pytest.skip(f"this host has no interpreter of {runtime}'s own version")
    s = fresh_server("--stems", "1")
    lam = s.client("lambda")
    time.sleep(1)
    # No function yet: no interpreter's stems are kept (the host has several).
    assert [k for k in stems_by_version(s) if k[0] != "provided"] == [], stems_by_version(s)
    names = {}
    for minor in (11, 12):
        names[minor] = unique(f"stem-py3{minor}")
        lam.create_function(
            FunctionName=names[minor], Runtime=f"python3.{minor}", Handler="app.handler",
            Role=ROLE, Code={"ZipFile": make_zip({"app.py": VERSION})},
        )
    deadline = time.time() + 20
    while time.time() < deadline:
        ready = stems_by_version(s)
        versions = sorted(v.rsplit(".", 1)[0] for (family, v), n in ready.items()
                          if family == "python" and n > 0)
        if versions == ["3.11", "3.12"]:
            break
        time.sleep(0.1)
    # One stem for each interpreter in use, none for the host's other Pythons.
    assert versions == ["3.11", "3.12"], ready
    stems = stem_uids(s, "/var/runtime/bootstrap.py")
    assert len(stems) == 2, stems
    for minor in (11, 12):
        _, out = invoke(lam, names[minor], {})
        # Each took the stem of its own interpreter: a 3.12 stem cannot serve python3.11.
        assert out["version"] == [3, minor], out
        assert out["uid"] in stems, (out, stems)
