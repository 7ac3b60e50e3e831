"""Honest limits: what a function is configured with is enforced and what it used is measured.

Root-only parts (cgroups) are skipped, with the reason, where `lambent doctor` says the host
does not allow them."""

import os
import re
import shutil
import signal
import sys
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
    before = set(os.listdir(envs))
    assert before
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    s.stop()
    for t in threads:
        t.join()
    again = Server(s.data_dir).start()
    try:
        assert subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout == b"", \
            "processes of the killed run survived the restart"
        # The new run has stems of its own; nothing of the killed run's is left.
        assert before.isdisjoint(os.listdir(envs))
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


needs_view = pytest.mark.skipif(
    "read-only code directory: enforced" not in doctor(),
    reason="private filesystem views need root (lambent doctor)",
)

PROBE = """
import os, errno

def attempt(path, mode="r"):
    try:
        with open(path, mode) as f:
            if mode == "r":
                f.read(1)
            else:
                f.write("x")
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

def handler(event, context):
    out = {p: attempt(p) for p in event["read"]}
    out.update({p + ":w": attempt(p, "w") for p in event.get("write", [])})
    out["uid"] = os.getuid()
    out["cwd"] = os.getcwd()
    out["tmp"] = sorted(os.listdir("/tmp"))
    if event.get("leave"):
        with open("/tmp/" + event["leave"], "w") as f:
            f.write("left")
    return out
"""


@needs_view
def test_function_cannot_see_lambent_or_other_functions(server, lam, function):
    other = function({"app.py": "SECRET = 'other code'\ndef handler(e, c):\n    return 1\n"})
    code_sha = lam.get_function(FunctionName=other)["Configuration"]["CodeSha256"]
    import base64
    other_code = os.path.join(server.data_dir, "code", base64.b64decode(code_sha).hex(), "app.py")
    assert os.path.exists(other_code)
    name = function({"app.py": PROBE})
    lambent_pid = server.proc.pid
    reads = [os.path.join(server.data_dir, "credentials"), other_code,
             f"/proc/{lambent_pid}/environ", server.log_path, "/var/task/app.py"]
    resp, body = invoke(lam, name, {"read": reads, "write": ["/var/task/new.py", "/tmp/mine"]})
    assert body[reads[0]] == "ENOENT", body  # the data directory does not exist
    assert body[reads[1]] == "ENOENT", body
    assert body[reads[2]] in ("EACCES", "ENOENT", "EPERM"), body
    assert body[reads[3]] == "ENOENT", body
    assert body["/var/task/app.py"] == "ok"
    assert body["/var/task/new.py:w"] in ("EROFS", "EACCES")
    assert body["/tmp/mine:w"] == "ok"
    assert body["uid"] != 0
    assert body["cwd"] == "/var/task"


@needs_view
def test_tmp_is_private_and_wiped(lam, function):
    a = function({"app.py": PROBE})
    b = function({"app.py": PROBE})
    marker = unique("m")
    resp, body = invoke(lam, a, {"read": [], "leave": marker})
    resp, body = invoke(lam, a, {"read": []})
    assert marker in body["tmp"]  # warm: the same environment keeps its /tmp
    resp, body = invoke(lam, b, {"read": []})
    assert marker not in body["tmp"]  # another function never sees it
    lam.update_function_configuration(FunctionName=a, Description="new environment")
    lam.get_waiter("function_updated_v2").wait(FunctionName=a)
    resp, body = invoke(lam, a, {"read": []})
    assert marker not in body["tmp"]  # a new environment starts with an empty /tmp


FILL_TMP = """
import errno, os
def handler(event, context):
    before = sorted(os.listdir("/tmp"))
    written = 0
    chunk = b"x" * (1024 * 1024)
    error = None
    try:
        with open("/tmp/fill", "wb") as f:
            for _ in range(event["mb"]):
                f.write(chunk)
                f.flush()
                written += 1
            os.fsync(f.fileno())
    except OSError as e:
        error = errno.errorcode[e.errno]
    st = os.statvfs("/tmp")
    return {"before": before, "written_mb": written, "error": error,
            "size_mb": st.f_blocks * st.f_frsize // (1024 * 1024), "inodes": st.f_files}
"""


needs_tmp_disk = pytest.mark.skipif(
    "/tmp on a disk of its own, not counted against MemorySize: enforced" not in doctor(),
    reason="/tmp is a tmpfs here (lambent doctor says why)",
)


@needs_tmp_disk
def test_tmp_is_storage_not_memory(lam, function):
    # /tmp is a disk of its own: a 128 MB function fills AWS's default 512 MB of it.
    name = function({"app.py": FILL_TMP}, MemorySize=128, Timeout=60)
    resp, body = invoke(lam, name, {"mb": 600}, LogType="Tail")
    assert resp.get("FunctionError") is None, body
    assert body["error"] == "ENOSPC", body
    assert 500 <= body["written_mb"] <= 512, body
    assert body["before"] == [], body  # no lost+found, nothing of anyone's
    assert 32_000 <= body["inodes"] <= 33_000, body  # capped in files, too
    assert max_memory_used(log_tail(resp)) <= 128
    # The environment is still there and answering, with its /tmp (rewritten here).
    resp, body = invoke(lam, name, {"mb": 1})
    assert body["before"] == ["fill"] and body["error"] is None, body
    # A new environment starts with an empty /tmp.
    lam.update_function_configuration(FunctionName=name, Description="new environment")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    resp, body = invoke(lam, name, {"mb": 1})
    assert body["before"] == [] and body["error"] is None, body


@needs_tmp_disk
def test_ephemeral_storage_of_10_gb_holds_1_gb(lam, function):
    name = function({"app.py": FILL_TMP}, MemorySize=256, Timeout=120,
                    EphemeralStorage={"Size": 10240})
    resp, body = invoke(lam, name, {"mb": 1024})
    assert body["error"] is None and body["written_mb"] == 1024, body
    assert 10_230 <= body["size_mb"] <= 10_240, body


@needs_view
def test_tmp_is_capped_at_ephemeral_storage(lam, function):
    # Wherever /tmp is (a disk, or a tmpfs without root), it holds what EphemeralStorage says;
    # a tmpfs's pages count toward the memory cap, so give the memory to hold them.
    name = function({"app.py": FILL_TMP}, MemorySize=1024, Timeout=60)
    resp, body = invoke(lam, name, {"mb": 600})
    assert body["error"] == "ENOSPC", body
    assert 500 <= body["written_mb"] <= 512, body


def test_forbidden_system_calls_are_refused(server, lam, function):
    code = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)

def err(rc):
    return "ok" if rc == 0 else errno.errorcode.get(ctypes.get_errno(), "?")

def handler(event, context):
    return {
        "unshare_user": err(libc.unshare(0x10000000)),
        "mount": err(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        "ptrace_lambent": err(libc.ptrace(16, event["pid"], None, None)),
        "reboot": err(libc.reboot(0x4321fedc)),
        "fork": "ok" if (os.fork() or os._exit(0)) else "",
    }
"""
    name = function({"app.py": code})
    resp, body = invoke(lam, name, {"pid": server.proc.pid})
    assert body == {"unshare_user": "EPERM", "mount": "EPERM", "ptrace_lambent": "EPERM",
                    "reboot": "EPERM", "fork": "ok"}, body


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_printing_500_mb_keeps_lambent_memory_flat(fresh_server):
    s = fresh_server()
    lam = s.client("lambda", timeout=120)
    flood = """
import os
def handler(event, context):
    line = b"y" * (1024 * 1024 - 1) + b"\\n"
    for _ in range(event["mb"]):
        os.write(1, line)
    return "done"
"""
    name = unique("flood")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Timeout=120, Code={"ZipFile": make_zip({"app.py": flood})})
    resp, body = invoke(lam, name, {"mb": 4}, LogType="Tail")
    assert body == "done"
    before = rss_kib(s.proc.pid)
    resp, body = invoke(lam, name, {"mb": 500}, LogType="Tail")
    assert body == "done"
    after = rss_kib(s.proc.pid)
    assert after - before < 8 * 1024, (before, after)
    # Lines are cut at AWS's 256 KB; the tail stays 4 KB.
    assert len(log_tail(resp)) <= 4096
    healthy, _ = invoke(lam, name, {"mb": 0})
    assert healthy["StatusCode"] == 200
    # Half a gigabyte of log is not worth keeping in pytest's temporary directories.
    shutil.rmtree(os.path.join(s.data_dir, "logs"), ignore_errors=True)


@needs_cgroups
def test_aws_cpu_limits_cap_a_small_function(fresh_server):
    s = fresh_server("--cpu-limits", "aws")
    lam = s.client("lambda")
    spin = """
import time, resource
def handler(event, context):
    end = time.time() + 1.0
    while time.time() < end:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime
"""
    name = unique("cpu")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        MemorySize=128, Timeout=10,
                        Code={"ZipFile": make_zip({"app.py": spin})})
    invoke(lam, name, {})
    resp, cpu_before = invoke(lam, name, {})
    resp, cpu_after = invoke(lam, name, {})
    used = cpu_after - cpu_before
    # 128 MB buys 128/1769 of a vCPU: about 0.07 s of CPU per second.
    assert used < 0.25, used


@needs_view
def test_own_pid_namespace(server, lam, function):
    code = """
import os
def handler(event, context):
    return {"pid": os.getpid(), "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
"""
    name = function({"app.py": code})
    resp, body = invoke(lam, name, {})
    # The runtime is an ordinary process, as on AWS: PID 1 is the environment's init.
    assert body["pid"] == 2
    assert body["procs"] == [1, 2], body  # nothing of lambent or of other environments


SELF_SIGNAL = """
import os, signal
def handler(event, context):
    if event["how"] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif event["how"] == "abort":
        os.abort()
    elif event["how"] == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    return "survived"
"""


@needs_view
@pytest.mark.parametrize(
    "how,message",
    [("kill", "signal: killed"), ("abort", "signal: aborted"), ("term", "signal: terminated")],
)
def test_a_function_that_signals_itself_dies_of_it(lam, function, how, message):
    name = function({"app.py": SELF_SIGNAL})
    resp, body = invoke(lam, name, {"how": how})
    assert resp.get("FunctionError") == "Unhandled", body
    assert body["errorType"] == "Runtime.ExitError", body
    assert body["errorMessage"].endswith(f"Error: Runtime exited with error: {message}"), body
    # The function stays usable: the next call gets a new environment.
    resp, body = invoke(lam, name, {"how": "none"})
    assert body == "survived"


def test_degraded_mode_without_root_says_so_and_still_caps_memory():
    """Run as an unprivileged user, lambent has no cgroups and no views: it says so once at
    start, and still bounds memory with its watchdog."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start lambent as another user")
    import tempfile
    base = tempfile.mkdtemp(prefix="lambent-nobody-", dir="/tmp")
    os.chmod(base, 0o755)
    data = os.path.join(base, "data")
    os.makedirs(data)
    os.chown(data, 65534, 65534)
    # The checkout may sit where another user cannot reach (a 0700 temporary directory).
    binary = os.path.join(base, "lambent")
    shutil.copy(LAMBENT, binary)
    os.chmod(binary, 0o755)
    s = Server(data, env={"PATH": "/usr/local/bin:/usr/bin:/bin"}, user=65534, binary=binary)
    s.log_path = os.path.join(base, "server.log")
    try:
        s.start()
        with open(s.log_path) as f:
            log = f.read()
        assert "not enforced on this host" in log, log
        assert "exact memory caps" in log
        lam = s.client("lambda")
        name = unique("nobody")
        lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, MemorySize=128, Timeout=30,
                            Code={"ZipFile": make_zip({"app.py": ALLOC})})
        resp, body = invoke(lam, name, {"mb": 1})
        assert body == 1, body
        resp, body = invoke(lam, name, {"mb": 1024}, LogType="Tail")
        assert body["errorType"] == "Runtime.OutOfMemory", body
        assert max_memory_used(log_tail(resp)) >= 128
        resp, body = invoke(lam, name, {"mb": 1})
        assert body == 1
        # Without root, the view is built in a user namespace: the same privacy.
        probe = unique("nobody-view")
        lam.create_function(FunctionName=probe, Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": make_zip({"app.py": PROBE})})
        creds = os.path.join(data, "credentials")
        resp, body = invoke(lam, probe, {"read": [creds, "/var/task/app.py"],
                                         "write": ["/var/task/x.py", "/tmp/ok"]})
        assert body[creds] == "ENOENT", body
        assert body["/var/task/app.py"] == "ok"
        assert body["/var/task/x.py:w"] in ("EROFS", "EACCES"), body
        assert body["/tmp/ok:w"] == "ok"
        assert body["cwd"] == "/var/task"
    finally:
        s.stop()
        shutil.rmtree(base, ignore_errors=True)


@needs_view
def test_an_interpreter_under_tmp_is_seen_through_the_private_tmp(fresh_server, tmp_path):
    """The host's `/tmp` is hidden, but a `python3` that lives there (a checkout or a
    virtualenv under `/tmp`) is mounted on top of the private `/tmp`, read-only."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    minor = sys.version_info[1]
    s = fresh_server(env={"PATH": f"{venv}/bin:{os.environ['PATH']}"})
    # First on PATH, the virtualenv's python3.X serves python3.X, and lambent says so.
    with open(s.log_path, errors="replace") as f:
        log = f.read()
    assert re.search(rf"python3\.{minor} → Python 3\.{minor}\.\d+ \({re.escape(str(venv))}/bin/python3\.{minor}\), exact", log), log
    lam = s.client("lambda")
    name = unique("tmp-python")
    # A bare virtualenv has no boto3, but the runtime's own SDK is there, as on AWS.
    code = """
import os, sys
import boto3
def handler(event, context):
    with open("/tmp/mine", "w") as f:
        f.write("x")
    try:
        open(os.path.join(sys.prefix, "written"), "w")
        prefix_writable = True
    except OSError:
        prefix_writable = False
    return {"prefix": sys.prefix, "tmp": sorted(os.listdir("/tmp")),
            "prefix_writable": prefix_writable, "boto3": boto3.__file__}
"""
    lam.create_function(FunctionName=name, Runtime=f"python3.{minor}", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": code})})
    for _ in range(2):  # two cold starts
        lam.update_function_configuration(FunctionName=name, Description=unique("d"))
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        resp, body = invoke(lam, name, {})
        assert "FunctionError" not in resp, body
        assert body["prefix"] == str(venv)
        assert not body["prefix_writable"]
        assert "mine" in body["tmp"]
        assert body["boto3"].startswith("/var/lang/lib/sdk/python/"), body
