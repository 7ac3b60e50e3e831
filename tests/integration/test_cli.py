"""The `lambent` CLI: function management from a directory or a single file, invoke, logs and
credentials, all through the public API."""

import json
import os
import subprocess
import time

import pytest

from conftest import LAMBENT, unique


def cli(server, *args, check=True, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(env_extra or {})
    out = subprocess.run(
        [LAMBENT, *args, "--data-dir", server.data_dir, "--endpoint", server.endpoint],
        capture_output=True, timeout=60, env=env,
    )
    if check:
        assert out.returncode == 0, out.stderr.decode()
    return out


def test_function_lifecycle_from_a_directory(server, tmp_path):
    src = tmp_path / "fn"
    (src / "lib").mkdir(parents=True)
    (src / "lib" / "greeting.py").write_text("WORD = 'hello'\n")
    (src / "app.py").write_text(
        "from lib.greeting import WORD\n"
        "import os\n"
        "def handler(event, context):\n"
        "    return {'msg': f\"{WORD} {event['name']}\", 'color': os.environ.get('COLOR')}\n"
    )
    name = unique("cli")
    out = cli(server, "function", "create", name, "--code", str(src), "--runtime", "python3.12",
              "--handler", "app.handler", "--env", "COLOR=blue", "--memory", "256")
    assert name in out.stdout.decode()
    try:
        out = cli(server, "invoke", name, "--payload", '{"name": "world"}')
        assert json.loads(out.stdout) == {"msg": "hello world", "color": "blue"}

        listed = cli(server, "function", "list").stdout.decode().splitlines()
        assert listed[0].split() == ["function", "runtime", "handler", "memory", "(MB)",
                                     "timeout", "(s)", "last", "modified"]
        row = next(line for line in listed if line.split()[0] == name)
        assert row.split()[1:5] == ["python3.12", "app.handler", "256", "3"]
        # Every column starts where its header does (text) or ends where it ends (numbers).
        header = listed[0]
        assert row.index("python3.12") == header.index("runtime")
        assert row.index(" 256 ") + 4 == header.index("memory (MB)") + len("memory (MB)")

        got = json.loads(cli(server, "function", "get", name).stdout)
        assert got["MemorySize"] == 256
        assert got["Environment"]["Variables"] == {"COLOR": "blue"}

        (src / "lib" / "greeting.py").write_text("WORD = 'goodbye'\n")
        cli(server, "function", "update", name, "--code", str(src), "--timeout", "10")
        got = json.loads(cli(server, "function", "get", name).stdout)
        assert got["Timeout"] == 10
        out = cli(server, "invoke", name, "--payload", '{"name": "world"}')
        assert json.loads(out.stdout)["msg"] == "goodbye world"
    finally:
        cli(server, "function", "delete", name)
    out = cli(server, "function", "get", name, check=False)
    assert out.returncode != 0
    assert b"ResourceNotFoundException" in out.stderr


def test_create_from_a_single_file_and_payload_file(server, tmp_path):
    f = tmp_path / "index.mjs"
    f.write_text("export const handler = async (event) => ({ doubled: event.n * 2 });\n")
    payload = tmp_path / "event.json"
    payload.write_text('{"n": 21}')
    name = unique("cli")
    cli(server, "function", "create", name, "--code", str(f), "--runtime", "nodejs20.x",
        "--handler", "index.handler")
    try:
        out = cli(server, "invoke", name, "--payload", f"@{payload}")
        assert json.loads(out.stdout) == {"doubled": 42}
    finally:
        cli(server, "function", "delete", name)


def test_a_missing_payload_file_is_named_with_the_os_error(server, tmp_path):
    missing = tmp_path / "missing.json"
    out = cli(server, "invoke", "any-function", "--payload", f"@{missing}", check=False)
    assert out.returncode == 1
    assert f"reading --payload file {missing}: No such file or directory" in out.stderr.decode()


def test_missing_code_is_named(server, tmp_path):
    missing = tmp_path / "my-function"
    out = cli(server, "function", "create", "any-function", "--code", str(missing),
              "--runtime", "python3.12", "--handler", "app.handler", check=False)
    assert out.returncode == 1
    assert f"reading --code {missing}: No such file or directory" in out.stderr.decode()


def test_a_mistyped_subcommand_suggests_the_right_one():
    out = subprocess.run([LAMBENT, "fucntion", "list"], capture_output=True, timeout=30)
    assert out.returncode == 2
    assert "tip: a similar subcommand exists: 'function'" in out.stderr.decode()
    out = subprocess.run([LAMBENT, "function", "lsit"], capture_output=True, timeout=30)
    assert "tip: a similar subcommand exists: 'list'" in out.stderr.decode()


def test_usage_prints_a_table_with_headers(server, tmp_path):
    f = tmp_path / "app.py"
    f.write_text("def handler(event, context):\n    return 1\n")
    name = unique("cli")
    cli(server, "function", "create", name, "--code", str(f), "--runtime", "python3.12",
        "--handler", "app.handler")
    try:
        cli(server, "invoke", name)
        # Usage is flushed once a second.
        deadline = time.time() + 10
        while True:
            lines = cli(server, "usage", "--function", name).stdout.decode().splitlines()
            rows = [line for line in lines if line.split()[:1] == [name]]
            if rows or time.time() > deadline:
                break
            time.sleep(0.2)
        header = lines[0]
        assert header.split() == ["function", "requests", "GB-seconds", "cost", "(list)"]
        assert rows and rows[0].split()[1] == "1"
        total = next(line for line in lines if line.startswith("total "))
        assert total.split()[1] == "1"
        # Numbers are right-aligned under their headers.
        for row in (rows[0], total):
            assert row.index(" 1 ") + 2 == header.index("requests") + len("requests")
            assert len(row) == len(header)
        assert lines[-1].startswith("free tier: ")
    finally:
        cli(server, "function", "delete", name)


def test_function_error_exit_code_and_tail(server, tmp_path):
    f = tmp_path / "app.py"
    f.write_text("def handler(event, context):\n    print('about to fail')\n    raise ValueError('nope')\n")
    name = unique("cli")
    cli(server, "function", "create", name, "--code", str(f), "--runtime", "python3.12",
        "--handler", "app.handler")
    try:
        out = cli(server, "invoke", name, "--tail", check=False)
        assert out.returncode == 2
        assert json.loads(out.stdout)["errorType"] == "ValueError"
        assert b"about to fail" in out.stderr
        assert b"REPORT RequestId:" in out.stderr
    finally:
        cli(server, "function", "delete", name)


def test_async_invoke_and_logs(server, tmp_path):
    f = tmp_path / "app.py"
    f.write_text("def handler(event, context):\n    print('marker', event['m'])\n    return 1\n")
    name = unique("cli")
    marker = unique("m")
    cli(server, "function", "create", name, "--code", str(f), "--runtime", "python3.12",
        "--handler", "app.handler")
    try:
        out = cli(server, "invoke", name, "--async", "--payload", json.dumps({"m": marker}))
        assert b"accepted: request id " in out.stderr
        deadline = time.time() + 15
        logs = ""
        while time.time() < deadline:
            logs = cli(server, "logs", name, check=False).stdout.decode()
            if f"marker {marker}" in logs:
                break
            time.sleep(0.2)
        assert f"marker {marker}" in logs
        assert "START RequestId:" in logs and "REPORT RequestId:" in logs
        filtered = cli(server, "logs", name, "--filter", "REPORT").stdout.decode()
        assert filtered and all("REPORT" in line for line in filtered.splitlines())
    finally:
        cli(server, "function", "delete", name)


def test_logs_follow_prints_new_events(server, tmp_path):
    f = tmp_path / "app.py"
    f.write_text("def handler(event, context):\n    print('follow', event['m'])\n")
    name = unique("cli")
    cli(server, "function", "create", name, "--code", str(f), "--runtime", "python3.12",
        "--handler", "app.handler")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    follower = subprocess.Popen(
        [LAMBENT, "logs", name, "--follow", "--data-dir", server.data_dir,
         "--endpoint", server.endpoint],
        stdout=subprocess.PIPE, env=env,
    )
    try:
        time.sleep(0.5)
        cli(server, "invoke", name, "--payload", '{"m": "one"}')
        cli(server, "invoke", name, "--payload", '{"m": "two"}')
        seen = b""
        deadline = time.time() + 15
        os.set_blocking(follower.stdout.fileno(), False)
        while time.time() < deadline and b"follow two" not in seen:
            chunk = follower.stdout.read()
            if chunk:
                seen += chunk
            time.sleep(0.1)
        assert b"follow one" in seen and b"follow two" in seen
        assert seen.count(b"follow one") == 1, "an event was printed twice"
    finally:
        follower.kill()
        follower.wait()
        cli(server, "function", "delete", name)


def test_logs_follow_with_a_json_filter_prints_only_matching_events(server, tmp_path):
    f = tmp_path / "app.py"
    f.write_text(
        "import json\n"
        "def handler(event, context):\n"
        "    print(json.dumps({'level': event['level'], 'm': event['m']}))\n"
    )
    name = unique("cli")
    cli(server, "function", "create", name, "--code", str(f), "--runtime", "python3.12",
        "--handler", "app.handler")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    follower = subprocess.Popen(
        [LAMBENT, "logs", name, "--follow", "--filter", '{ $.level = "ERROR" }',
         "--data-dir", server.data_dir, "--endpoint", server.endpoint],
        stdout=subprocess.PIPE, env=env,
    )
    try:
        time.sleep(0.5)
        for level, m in (("INFO", "quiet"), ("ERROR", "loud"), ("INFO", "calm"), ("ERROR", "last")):
            cli(server, "invoke", name, "--payload", json.dumps({"level": level, "m": m}))
        seen = b""
        deadline = time.time() + 15
        os.set_blocking(follower.stdout.fileno(), False)
        while time.time() < deadline and b'"last"' not in seen:
            chunk = follower.stdout.read()
            if chunk:
                seen += chunk
            time.sleep(0.1)
        assert b'"loud"' in seen and b'"last"' in seen
        assert b"quiet" not in seen and b"calm" not in seen
        assert b"START RequestId" not in seen, "platform lines do not match the pattern"
    finally:
        follower.kill()
        follower.wait()
        cli(server, "function", "delete", name)


def test_root_credentials_from_environment(fresh_server):
    s = fresh_server(env={"LAMBENT_ROOT_ACCESS_KEY_ID": "AKIAEXAMPLEROOT00001",
                          "LAMBENT_ROOT_SECRET_ACCESS_KEY": "s3cr3t/EXAMPLE+key0000000000000000000000"})
    assert s.credentials() == ("AKIAEXAMPLEROOT00001", "s3cr3t/EXAMPLE+key0000000000000000000000")
    assert os.stat(os.path.join(s.data_dir, "credentials")).st_mode & 0o777 == 0o600
    out = cli(s, "credentials").stdout.decode()
    assert "export AWS_ACCESS_KEY_ID=AKIAEXAMPLEROOT00001\n" in out
    assert f"export AWS_ENDPOINT_URL={s.endpoint}\n" in out
    assert "export AWS_REGION=us-east-1\n" in out
    # The exported settings are all the aws CLI needs.
    env = dict(os.environ)
    for line in out.splitlines():
        k, v = line.removeprefix("export ").split("=", 1)
        env[k] = v
    res = subprocess.run(["aws", "lambda", "list-functions"], env=env, capture_output=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["Functions"] == []


def test_credentials_for_a_user_make_a_key_of_its_own(server):
    iam = server.client("iam")
    user = unique("cli-user")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}],
    }))
    out = cli(server, "credentials", "--user", user).stdout.decode()
    env = dict(os.environ)
    for line in out.splitlines():
        k, v = line.removeprefix("export ").split("=", 1)
        env[k] = v
    assert env["AWS_ACCESS_KEY_ID"].startswith("AKIA")
    assert env["AWS_ACCESS_KEY_ID"] != server.credentials()[0]
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]] \
        == [env["AWS_ACCESS_KEY_ID"]]
    # The key is the user's: allowed what its policy allows, and nothing more.
    who = subprocess.run(["aws", "sts", "get-caller-identity"], env=env, capture_output=True,
                         timeout=60)
    assert json.loads(who.stdout)["Arn"].endswith(f":user/{user}"), who.stderr
    ok = subprocess.run(["aws", "lambda", "list-functions"], env=env, capture_output=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    denied = subprocess.run(["aws", "iam", "list-users"], env=env, capture_output=True, timeout=60)
    assert denied.returncode != 0 and b"AccessDenied" in denied.stderr
    # An unknown user is named in the error.
    out = cli(server, "credentials", "--user", "nobody-" + user, check=False)
    assert out.returncode != 0
    assert b"NoSuchEntity" in out.stderr and b"nobody-" in out.stderr


def test_credentials_without_a_server_fail_clearly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([LAMBENT, "credentials", "--data-dir", str(tmp_path / "none")],
                         capture_output=True, timeout=30, env=env)
    assert out.returncode != 0
    assert b"no credentials" in out.stderr
