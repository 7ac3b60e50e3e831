"""One server per data directory, and a clear word when `--listen` is taken.

A second `lambent up` on a directory a running server uses used to take the running
server's environments for a dead run's leftovers: it killed them, removed their cgroup
(every later cold start failed) and overwrote `endpoint` and `lambent.pid`.
"""

import os
import socket
import subprocess
import time

from conftest import LAMBENT, ROLE, Server, invoke, log_tail, make_zip, unique

APP = "def handler(event, context):\n    return {'pid': __import__('os').getpid(), 'echo': event}\n"


def up(*args, timeout=15):
    """Runs a `lambent up` that is expected to refuse to start; returns (rc, stderr, seconds)."""
    start = time.monotonic()
    out = subprocess.run(
        [LAMBENT, "up", *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return out.returncode, out.stderr.decode(errors="replace"), time.monotonic() - start


def read(path):
    with open(path) as f:
        return f.read()


def test_a_second_server_on_a_data_dir_in_use_exits_and_touches_nothing(fresh_server):
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("dd")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": make_zip({"app.py": APP})},
    )
    _, first = invoke(lam, name, {"n": 1})
    endpoint_file = os.path.join(s.data_dir, "endpoint")
    pid_file = os.path.join(s.data_dir, "lambent.pid")
    recorded = (read(endpoint_file), read(pid_file))
    assert recorded == (s.endpoint + "\n", f"{s.proc.pid}\n")
    stamps = (os.stat(endpoint_file).st_mtime_ns, os.stat(pid_file).st_mtime_ns)

    rc, err, took = up("--listen", "127.0.0.1:0", "--data-dir", s.data_dir)
    assert rc != 0
    assert took < 5, f"the refusal took {took:.1f}s"
    real_dir = os.path.realpath(s.data_dir)
    assert real_dir in err, err
    assert f"pid {s.proc.pid}" in err, err
    assert s.endpoint in err, err
    assert "lambent listening" not in err

    # The first server's warm environment is untouched...
    _, warm = invoke(lam, name, {"n": 2})
    assert warm == {"pid": first["pid"], "echo": {"n": 2}}
    # ...and so is its cgroup: a new configuration means a cold start in a new group.
    lam.update_function_configuration(FunctionName=name, MemorySize=256)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    resp, cold = invoke(lam, name, {"n": 3}, LogType="Tail")
    assert "FunctionError" not in resp, cold
    assert cold["echo"] == {"n": 3}
    assert "Init Duration" in log_tail(resp)
    assert (read(endpoint_file), read(pid_file)) == recorded
    assert (os.stat(endpoint_file).st_mtime_ns, os.stat(pid_file).st_mtime_ns) == stamps
    assert s.alive()


def test_the_data_dir_is_free_again_once_its_server_is_gone(fresh_server):
    s = fresh_server()
    data_dir = s.data_dir
    s.stop(sig=9)
    # The kernel released the lock with the process: a new server starts, and records itself.
    t = Server(data_dir).start()
    try:
        assert read(os.path.join(data_dir, "lambent.pid")) == f"{t.proc.pid}\n"
        assert read(os.path.join(data_dir, "endpoint")) == t.endpoint + "\n"
    finally:
        t.stop()


def test_a_taken_listen_address_says_a_lambent_answers_there(fresh_server, tmp_path):
    s = fresh_server()
    address = s.endpoint.removeprefix("http://")
    rc, err, took = up("--listen", address, "--data-dir", str(tmp_path / "other"))
    assert rc != 0
    assert took < 5
    assert (
        f"cannot listen on {address}: address already in use "
        f"(a lambent answers there: http://{address})"
    ) in err, err
    assert s.alive()


def test_a_taken_listen_address_says_something_else_holds_it(tmp_path):
    # A socket that listens but never answers: the probe gives up after its short timeout.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(8)
        address = "127.0.0.1:%d" % holder.getsockname()[1]
        rc, err, took = up("--listen", address, "--data-dir", str(tmp_path / "data"))
    assert rc != 0
    assert took < 5
    assert f"cannot listen on {address}: address already in use (something else holds it)" in err
