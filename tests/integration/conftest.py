"""Fixtures: a real `lambent up` on 127.0.0.1:0 and AWS's own clients pointed at it."""

import base64
import io
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
import zipfile

import boto3
import botocore.config
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAMBENT = os.environ.get("LAMBENT_BIN", os.path.join(ROOT, "target", "debug", "lambent"))
ROLE = "arn:aws:iam::000000000000:role/lambent-test"
# The role every test server holds for the tests' functions: trusted by Lambda, allowed
# everything (tests of least privilege make their own roles).
TRUSTS_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
EVERYTHING = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
# The SDK cache every test server shares: the repository's, which `scripts/test` fills once
# (`lambent runtimes install`), never the user's ~/.cache.
os.environ.setdefault("LAMBENT_RUNTIMES_DIR", os.path.join(ROOT, ".cache", "lambent"))


class Server:
    """One lambent process with its own data directory."""

    def __init__(self, data_dir, *args, env=None, user=None, binary=LAMBENT):
        self.data_dir = data_dir
        self.args = list(args)
        self.env = env
        self.user = user
        self.binary = binary
        self.proc = None
        self.endpoint = None
        self.log_path = os.path.join(data_dir, "server.log")

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        env = dict(os.environ)
        env.pop("AWS_ACCESS_KEY_ID", None)
        env.pop("AWS_SECRET_ACCESS_KEY", None)
        env.update(self.env or {})
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "up", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, *self.args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            start_new_session=True,
            user=self.user,
        )
        line = self.proc.stdout.readline().decode()
        assert line.startswith("lambent listening on "), f"unexpected first line {line!r}"
        self.endpoint = line.split()[-1]
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.endpoint + "/_lambent/health", timeout=2) as r:
                    if r.status == 200:
                        self.ensure_role(ROLE.rsplit("/", 1)[1], EVERYTHING)
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("lambent did not become healthy")

    def ensure_role(self, name, policy):
        """Creates the execution role `name`, trusting Lambda, allowed `policy`, if missing."""
        iam = self.client("iam")
        try:
            iam.get_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUSTS_LAMBDA)
            iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=policy)
        return f"arn:aws:iam::000000000000:role/{name}"

    def credentials(self):
        creds = {}
        with open(os.path.join(self.data_dir, "credentials")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.split("=", 1)
                    creds[k.strip()] = v.strip()
        return creds["aws_access_key_id"], creds["aws_secret_access_key"]

    def client(self, service, retries=0, timeout=60, **kwargs):
        key, secret = self.credentials()
        kwargs.setdefault("aws_access_key_id", key)
        kwargs.setdefault("aws_secret_access_key", secret)
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            config=botocore.config.Config(
                retries={"max_attempts": retries + 1, "mode": "standard"},
                read_timeout=timeout,
                connect_timeout=5,
            ),
            **kwargs,
        )

    def aws_env(self):
        key, secret = self.credentials()
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=key,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL=self.endpoint,
        )
        env.pop("AWS_PROFILE", None)
        return env

    def aws(self, *args, check=True):
        """Runs the aws CLI (from the test venv) against this server; returns parsed JSON."""
        out = subprocess.run(
            ["aws", "--output", "json", *args],
            env=self.aws_env(),
            capture_output=True,
            timeout=120,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {out.stderr.decode()}")
        return out

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        self.proc = None


@pytest.fixture(scope="session")
def server():
    """One server shared by the tests that do not need a private one."""
    with tempfile.TemporaryDirectory(prefix="lambent-it-") as d:
        s = Server(os.path.join(d, "data"), "--max-concurrency", "20").start()
        yield s
        assert s.alive(), "lambent died during the tests"
        s.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """A private server, for tests that restart it or change account limits."""
    servers = []

    def start(*args, env=None):
        s = Server(str(tmp_path / f"data{len(servers)}"), *args, env=env).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def lam(server):
    return server.client("lambda")


def make_zip(files):
    """A zip of {name: text or (text, mode)} entries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    return buf.getvalue()


def unique(prefix="fn"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def function(lam):
    """Creates functions that are deleted after the test: function(files, runtime, handler, **kw)."""
    created = []

    def create(files, runtime="python3.12", handler="app.handler", name=None, **kwargs):
        name = name or unique()
        kwargs.setdefault("Role", ROLE)
        lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Handler=handler,
            Code={"ZipFile": make_zip(files)},
            **kwargs,
        )
        created.append(name)
        return name

    yield create
    for name in created:
        try:
            lam.delete_function(FunctionName=name)
        except lam.exceptions.ResourceNotFoundException:
            pass


def invoke(lam, name, payload=None, **kwargs):
    """Invokes synchronously; returns (response, parsed body or raw bytes)."""
    if payload is not None and not isinstance(payload, (bytes, str)):
        payload = json.dumps(payload)
    if payload is not None:
        kwargs["Payload"] = payload
    resp = lam.invoke(FunctionName=name, **kwargs)
    raw = resp["Payload"].read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return resp, body


def log_tail(resp):
    return base64.b64decode(resp.get("LogResult", "")).decode(errors="replace")


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
