"""Honest limits: what a function is configured with is enforced and what it used is measured.

Root-only parts (cgroups) are skipped, with the reason, where `lambent doctor` says the host
does not allow them."""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import LAMBENT, ROLE, Server, invoke, log_tail, make_zip, unique


def doctor():
    return subprocess.run([LAMBENT, "doctor"], capture_output=True, timeout=30).stdout.decode()


needs_cgroups = pytest.mark.skipif(
    "memory cap (MemorySize) and Runtime.OutOfMemory: enforced" not in doctor(),
    reason="cgroups are not usable on this host (lambent doctor); run as root",
)


def max_memory_used(tail):
    return int(re.search(r"Max Memory Used: (\d+) MB", tail).group(1))


ALLOC = """
def handler(event, context):
    chunks = []
    for _ in range(event["mb"]):
        chunks.append(bytearray(1024 * 1024))  # touched: bytearray zero-fills
    return len(chunks)
"""


@needs_cgroups
def test_exceeding_memory_size_is_out_of_memory(lam, function):
    name = function({"app.py": ALLOC}, MemorySize=128, Timeout=30)
    resp, body = invoke(lam, name, {"mb": 1024}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].startswith("RequestId: ")
    used = max_memory_used(log_tail(resp))
    assert 110 <= used <= 129, used
    # The function stays usable, and others were never affected.
    resp, body = invoke(lam, name, {"mb": 1})
    assert body == 1


@needs_cgroups
def test_max_memory_used_is_measured(lam, function):
    name = function({"app.py": ALLOC}, MemorySize=512, Timeout=30)
    resp, _ = invoke(lam, name, {"mb": 1}, LogType="Tail")
    baseline = max_memory_used(log_tail(resp))
    resp, body = invoke(lam, name, {"mb": 60}, LogType="Tail")
    assert body == 60
    used = max_memory_used(log_tail(resp))
    assert baseline + 50 <= used <= baseline + 80, (baseline, used)


@needs_cgroups
def test_fork_bomb_is_contained(lam, function):
    bomb = """
import os, time
def handler(event, context):
    children = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            children += 1
    except OSError as e:
        return {"children": children, "error": e.errno}
"""
    name = function({"app.py": bomb}, MemorySize=1024, Timeout=20)
    healthy = function({"app.py": "def handler(e, c):\n    return 'ok'\n"})
    resp, body = invoke(lam, name, {})
    assert "FunctionError" not in resp, body
    assert 900 <= body["children"] < 1024, body  # the cap, not the host, said no
    assert body["error"] == 11  # EAGAIN
    started = time.time()
    resp, body = invoke(lam, healthy, {})
    assert body == "ok" and time.time() - started < 5


@needs_cgroups
def test_timeout_kills_daemonized_children(lam, function, tmp_path):
    marker = f"sleep 444.{os.getpid() % 1000}{int(time.time()) % 1000}"
    code = f"""
import subprocess
def handler(event, context):
    subprocess.Popen(["setsid", "sh", "-c", "{marker}"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        pass
"""
    name = function({"app.py": code}, Timeout=2)
    resp, body = invoke(lam, name, {})
    assert body["errorType"] == "Sandbox.Timedout"
    deadline = time.time() + 5
    while time.time() < deadline:
        if subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout == b"":
            break
        time.sleep(0.1)
    assert subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout == b"", \
        "the daemonized child outlived its environment"


@needs_cgroups
def test_kill_9_leaves_nothing_behind_after_restart(fresh_server):
    s = fresh_server()
    lam = s.client("lambda", timeout=30)
    marker = f"sleep 555.{os.getpid() % 1000}{int(time.time()) % 1000}"
    code = f"""
import subprocess, time
def handler(event, context):
    subprocess.Popen(["setsid", "sh", "-c", "{marker}"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(30)
"""
    name = unique("kill9")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Timeout=60, Code={"ZipFile": make_zip({"app.py": code})})
    threads = [threading.Thread(target=lambda: _swallow(lambda: invoke(lam, name, {})))
               for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.time() + 10
    while time.time() < deadline:
        if len(subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout.split()) >= 3:
            break
        time.sleep(0.1)
    assert len(subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout.split()) >= 3
    envs = os.path.join(s.data_dir, "envs")
    assert os.listdir(envs)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    s.stop()
    for t in threads:
        t.join()
    again = Server(s.data_dir).start()
    try:
        assert subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout == b"", \
            "processes of the killed run survived the restart"
        assert os.listdir(envs) == []
    finally:
        again.stop()


def _swallow(f):
    try:
        f()
    except Exception:
        pass


def test_doctor_reports_every_limit():
    out = doctor()
    for line in ("cgroups:", "memory cap", "Max Memory Used", "process cap", "CPU share",
                 "read-only code directory", "open files cap"):
        assert line in out, out
