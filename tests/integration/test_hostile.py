"""Hostile input: lambent answers with AWS-shaped errors, stays bounded, and keeps serving.

Every test ends by checking that lambent still serves everyone else: the health endpoint
answers and a healthy function (module-scoped) returns its result.

One test is deliberately slow (~10 s): test_SLOW_trickled_headers_are_cut_at_header_timeout.
"""

import base64
import datetime
import http.client
import io
import json
import os
import select
import socket
import struct
import threading
import time
import urllib.parse
import uuid
import warnings
import zipfile
from unittest import mock

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ROLE, error_code, invoke, log_tail, make_zip, status, unique

REGION = "us-east-1"
LIST_PATH = "/2015-03-31/functions"
AUTH_ERRORS = {
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "InvalidSignatureException",
    "UnrecognizedClientException",
}
HANDLER_ERRORS = {"InvalidParameterValueException", "ValidationException"}

HEALTHY_SRC = """
def handler(event, context):
    if isinstance(event, str):
        return {"len": len(event)}
    return {"echo": event}
"""

# ---------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def healthy(lam):
    name = unique("healthy")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Timeout=30,
        Code={"ZipFile": make_zip({"app.py": HEALTHY_SRC})},
    )
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except ClientError:
        pass


def hostport(server):
    u = urllib.parse.urlsplit(server.endpoint)
    return u.hostname, u.port


def assert_serving(server, lam, healthy):
    """lambent is alive, its health endpoint answers and a healthy function returns its result."""
    assert server.alive(), "lambent process died"
    st, _, body = raw(server, "GET", "/_lambent/health")
    assert st == 200, (st, body)
    token = uuid.uuid4().hex
    resp, body = invoke(lam, healthy, {"ping": token})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, body
    assert body == {"echo": {"ping": token}}


def raw(server, method, path, body=b"", headers=None, timeout=30):
    """One plain HTTP request; returns (status, lowercase headers, body bytes)."""
    host, port = hostport(server)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def signed_headers(server, method, path, body=b"", key=None, secret=None, token=None, headers=None):
    """Headers of a request signed by botocore's own SigV4 signer."""
    k, s = server.credentials()
    req = AWSRequest(method=method, url=server.endpoint + path, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(key or k, secret or s, token), "lambda", REGION).add_auth(req)
    return dict(req.headers.items())


def message_of(body):
    doc = json.loads(body)
    return doc.get("message", doc.get("Message", ""))


def assert_auth_error(st, headers, body, code):
    assert st == 403, (st, headers, body)
    assert headers.get("x-amzn-errortype") == code, (headers, body)
    json.loads(body)  # an AWS-shaped JSON body


def invocations_path(name):
    return f"/2015-03-31/functions/{name}/invocations"


def read_head(sock, timeout):
    """Reads a response head (or whatever arrives before EOF); b'' if the peer closed/reset."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def parse_head(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    st = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return st, headers


def request_head(method, path, host, headers):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def create_raises(lam, zip_bytes, expected_code="InvalidParameterValueException", expected_status=400,
                  name=None, **kwargs):
    """CreateFunction with `zip_bytes` must fail as stated and leave no function behind."""
    name = name or unique("hostile")
    kwargs.setdefault("Runtime", "python3.12")
    kwargs.setdefault("Handler", "app.handler")
    kwargs.setdefault("Role", ROLE)
    try:
        with pytest.raises(ClientError) as e:
            lam.create_function(FunctionName=name, Code={"ZipFile": zip_bytes}, **kwargs)
        assert error_code(e) == expected_code, e.value.response
        assert status(e) == expected_status, e.value.response
        with pytest.raises(ClientError) as nf:
            lam.get_function(FunctionName=name)
        assert error_code(nf) == "ResourceNotFoundException"
        assert status(nf) == 404
        return e.value.response["Error"].get("Message", "")
    finally:
        try:
            lam.delete_function(FunctionName=name)
        except ClientError:
            pass


def zip_entries(entries):
    """A zip of (name, bytes, unix st_mode) entries; duplicates allowed."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data, mode in entries:
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = mode << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
    return buf.getvalue()


FILE = 0o100644
LINK = 0o120777
GOOD_APP = b"def handler(e, c):\n    return 'ok'\n"


def header_offsets(zip_bytes):
    """(central header offset, local header offset) of each entry."""
    eocd = zip_bytes.rfind(b"PK\x05\x06")
    count, _, cd_offset = struct.unpack_from("<HII", zip_bytes, eocd + 10)
    out, pos = [], cd_offset
    for _ in range(count):
        assert zip_bytes[pos:pos + 4] == b"PK\x01\x02"
        n, m, k = struct.unpack_from("<HHH", zip_bytes, pos + 28)
        (local,) = struct.unpack_from("<I", zip_bytes, pos + 42)
        out.append((pos, local))
        pos += 46 + n + m + k
    return out


_BOMB = {}


def zip_bomb():
    """300 MB of zeros deflated as one entry (~300 KB), built once, streaming."""
    if "honest" not in _BOMB:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            info = zipfile.ZipInfo("zeros")
            info.create_system = 3
            info.external_attr = FILE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w") as f:
                chunk = bytes(1 << 20)
                for _ in range(300):
                    f.write(chunk)
        _BOMB["honest"] = buf.getvalue()
    return _BOMB["honest"]


def no_temp_leftovers(data_dir):
    left = []
    for root, dirs, files in os.walk(data_dir):
        left += [os.path.join(root, n) for n in dirs + files if ".tmp-" in n]
    return left


# ---------------------------------------------------------------------------------------------
# authentication


def test_health_needs_no_auth(server, lam, healthy):
    st, _, body = raw(server, "GET", "/_lambent/health")
    assert st == 200
    assert body.strip() == b"ok"
    assert_serving(server, lam, healthy)


def test_credentials_file_is_private(server, lam, healthy):
    path = os.path.join(server.data_dir, "credentials")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert_serving(server, lam, healthy)


def test_no_authorization_is_missing_authentication_token(server, lam, healthy):
    st, h, body = raw(server, "GET", LIST_PATH)
    assert_auth_error(st, h, body, "MissingAuthenticationTokenException")
    assert message_of(body) == "Missing Authentication Token"
    # Also for a write and for an invoke: nothing runs unauthenticated.
    st, h, body = raw(server, "POST", invocations_path(healthy), body=b"{}")
    assert_auth_error(st, h, body, "MissingAuthenticationTokenException")
    assert_serving(server, lam, healthy)


def test_wrong_secret_is_invalid_signature(server, lam, healthy):
    headers = signed_headers(server, "GET", LIST_PATH, secret="x" * 40)
    st, h, body = raw(server, "GET", LIST_PATH, headers=headers)
    assert_auth_error(st, h, body, "InvalidSignatureException")
    assert message_of(body).startswith("The request signature we calculated does not match")
    assert_serving(server, lam, healthy)


def test_unknown_access_key_is_unrecognized_client(server, lam, healthy):
    key = "AKIA" + uuid.uuid4().hex[:16].upper()
    headers = signed_headers(server, "GET", LIST_PATH, key=key)
    st, h, body = raw(server, "GET", LIST_PATH, headers=headers)
    assert_auth_error(st, h, body, "UnrecognizedClientException")
    assert message_of(body) == "The security token included in the request is invalid."
    assert_serving(server, lam, healthy)


def test_signature_from_twenty_minutes_ago_is_expired(server, lam, healthy):
    past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=past):
        headers = signed_headers(server, "GET", LIST_PATH)
    assert headers["X-Amz-Date"] == past.strftime("%Y%m%dT%H%M%SZ")
    st, h, body = raw(server, "GET", LIST_PATH, headers=headers)
    assert_auth_error(st, h, body, "InvalidSignatureException")
    assert message_of(body).startswith("Signature expired"), body
    assert_serving(server, lam, healthy)


def test_tampered_request_after_signing_is_invalid_signature(server, lam, healthy):
    path = invocations_path(healthy)
    headers = signed_headers(server, "POST", path, body=b'{"n": 1}')
    # Body changed (same length).
    st, h, body = raw(server, "POST", path, body=b'{"n": 2}', headers=headers)
    assert_auth_error(st, h, body, "InvalidSignatureException")
    # A signed header changed.
    headers = signed_headers(server, "POST", path, body=b'{"n": 1}', headers={"X-Amz-Log-Type": "None"})
    headers["X-Amz-Log-Type"] = "Tail"
    st, h, body = raw(server, "POST", path, body=b'{"n": 1}', headers=headers)
    assert_auth_error(st, h, body, "InvalidSignatureException")
    # The path changed (signed for one function, sent to another).
    headers = signed_headers(server, "POST", path, body=b'{"n": 1}')
    st, h, body = raw(server, "POST", invocations_path(unique("other")), body=b'{"n": 1}', headers=headers)
    assert_auth_error(st, h, body, "InvalidSignatureException")
    assert_serving(server, lam, healthy)


def test_malformed_authorization_is_incomplete_signature(server, lam, healthy):
    key, _ = server.credentials()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    cred = f"Credential={key}/{day}/{REGION}/lambda/aws4_request"
    for value in [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        f"AWS4-HMAC-SHA256 {cred}",
        f"AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;x-amz-date",
        f"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
        f"AWS4-HMAC-SHA256 {cred}, Signature={'0' * 64}",
    ]:
        st, h, body = raw(server, "GET", LIST_PATH, headers={"Authorization": value, "X-Amz-Date": amz_date})
        assert st == 403, (value, st, body)
        assert h.get("x-amzn-errortype") == "IncompleteSignatureException", (value, h, body)
    # Stranger shapes: still a 403 auth error, never a 5xx or a hang.
    for value in [
        b"AWS4-HMAC-SHA256 Credential=\xff\xfe\x80, SignedHeaders=host, Signature=zz",
        f"AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;x-amz-date, Signature={'a' * 20000}".encode(),
        f"AWS4-HMAC-SHA256 Credential={key}, SignedHeaders=host;x-amz-date, Signature={'0' * 64}".encode(),
        f"AWS4-HMAC-SHA256 Credential={key}/{day}/{REGION}/lambda/aws4_request/x/y/z, "
        f"SignedHeaders=;;;, Signature=,,,".encode(),
        b"Bearer abc.def.ghi",
    ]:
        st, h, body = raw(server, "GET", LIST_PATH, headers={"Authorization": value, "X-Amz-Date": amz_date})
        assert st == 403, (value[:120], st, body[:300])
        assert h.get("x-amzn-errortype") in AUTH_ERRORS, (value[:120], h)
    assert_serving(server, lam, healthy)


def test_presigned_query_auth_lists_functions(server, lam, healthy):
    key, secret = server.credentials()
    req = AWSRequest(method="GET", url=server.endpoint + LIST_PATH)
    SigV4QueryAuth(Credentials(key, secret), "lambda", REGION, expires=300).add_auth(req)
    u = urllib.parse.urlsplit(req.url)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in u.query
    assert "Authorization" not in req.headers
    st, _, body = raw(server, "GET", f"{u.path}?{u.query}")
    assert st == 200, body
    assert healthy in [f["FunctionName"] for f in json.loads(body)["Functions"]]
    # The same presigned URL signed with the wrong secret is refused.
    req = AWSRequest(method="GET", url=server.endpoint + LIST_PATH)
    SigV4QueryAuth(Credentials(key, "y" * 40), "lambda", REGION, expires=300).add_auth(req)
    u = urllib.parse.urlsplit(req.url)
    st, h, body = raw(server, "GET", f"{u.path}?{u.query}")
    assert_auth_error(st, h, body, "InvalidSignatureException")
    assert_serving(server, lam, healthy)


def test_session_token_lambent_never_issued_is_unrecognized(server, lam, healthy):
    bogus = "IQoJb3JpZ2luX2VjE" + uuid.uuid4().hex * 4
    client = server.client("lambda", aws_session_token=bogus)
    with pytest.raises(ClientError) as e:
        client.list_functions()
    assert error_code(e) == "UnrecognizedClientException", e.value.response
    assert status(e) == 403
    # And through the invoke path: the function must not run.
    with pytest.raises(ClientError) as e:
        client.invoke(FunctionName=healthy, Payload=b"{}")
    assert error_code(e) == "UnrecognizedClientException", e.value.response
    assert_serving(server, lam, healthy)


# ---------------------------------------------------------------------------------------------
# invoke bodies


def test_invoke_payload_at_the_limit_is_accepted(server, lam, healthy):
    limit = 6 * 1024 * 1024
    payload = b'"' + b"a" * (limit - 2) + b'"'
    assert len(payload) == limit
    resp, body = invoke(lam, healthy, payload)
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, body
    assert body == {"len": limit - 2}
    assert_serving(server, lam, healthy)


def test_invoke_payload_one_byte_over_is_413(server, lam, healthy):
    limit = 6 * 1024 * 1024
    payload = b'"' + b"a" * (limit - 1) + b'"'
    assert len(payload) == limit + 1
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=healthy, Payload=payload)
    assert error_code(e) == "RequestEntityTooLargeException", e.value.response
    assert status(e) == 413
    assert str(limit) in e.value.response["Error"]["Message"]
    assert_serving(server, lam, healthy)


@pytest.mark.parametrize("what, declared", [("invoke", 7_000_000), ("create", 80_000_000)])
def test_oversized_content_length_is_refused_before_the_body(server, lam, healthy, what, declared):
    """A declared Content-Length over the limit gets its 413 at once: lambent does not wait for
    (or buffer) a body it will refuse anyway. The request is properly signed over the full body."""
    path = invocations_path(healthy) if what == "invoke" else LIST_PATH
    full_body = b"{" + b" " * (declared - 2) + b"}"
    headers = signed_headers(server, "POST", path, body=full_body)
    del full_body
    headers["Content-Length"] = str(declared)
    host, port = hostport(server)
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(request_head("POST", path, f"{host}:{port}", headers) + b"{   ")
        start = time.monotonic()
        data = read_head(s, timeout=5)
        elapsed = time.monotonic() - start
    assert data, "no response: the server waited for the body"
    st, h = parse_head(data)
    assert st == 413, data[:500]
    assert h.get("x-amzn-errortype") == "RequestEntityTooLargeException", data[:500]
    assert elapsed < 2.0, f"413 took {elapsed:.2f}s"
    assert_serving(server, lam, healthy)


def test_oversized_chunked_body_is_413(server, lam, healthy):
    """No Content-Length (chunked): lambent stops reading at the limit and answers 413."""
    path = invocations_path(healthy)
    total, piece = 8 * 1024 * 1024, b"a" * (1024 * 1024)
    full_body = b'"' + piece * 8 + b'"'
    headers = signed_headers(server, "POST", path, body=full_body)
    del full_body
    headers.pop("Content-Length", None)
    headers["Transfer-Encoding"] = "chunked"
    host, port = hostport(server)
    received = []

    def reader(sock):
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                received.append(chunk)
        except OSError:
            return

    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(request_head("POST", path, f"{host}:{port}", headers))
        t = threading.Thread(target=reader, args=(s,), daemon=True)
        t.start()
        try:
            for part in [b'"'] + [piece] * (total // len(piece)) + [b'"']:
                s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                if received:
                    break
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed after its 413
        t.join(timeout=10)
    data = b"".join(received)
    st, h = parse_head(data)
    assert st == 413, data[:500]
    assert h.get("x-amzn-errortype") == "RequestEntityTooLargeException"
    assert_serving(server, lam, healthy)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b'{"a":', b'"\xff\xfe"', b"\xc3\x28", b'{"a": 1} trailing', b"{'single': 1}", b"\x00"],
    ids=["text", "truncated", "invalid-utf8-string", "invalid-utf8", "trailing", "single-quotes", "nul"],
)
def test_invalid_json_payload_is_invalid_request_content(server, lam, healthy, payload):
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=healthy, Payload=payload)
    assert error_code(e) == "InvalidRequestContentException", e.value.response
    assert status(e) == 400
    assert_serving(server, lam, healthy)


def test_deep_nesting_is_refused_promptly(server, lam, healthy):
    for payload in [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000]:
        start = time.monotonic()
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=healthy, Payload=payload)
        elapsed = time.monotonic() - start
        assert error_code(e) == "InvalidRequestContentException", e.value.response
        assert status(e) == 400
        assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert_serving(server, lam, healthy)


def test_lying_content_length_then_close(server, lam, healthy):
    host, port = hostport(server)
    path = invocations_path(healthy)
    for how in ("shutdown", "close"):
        headers = signed_headers(server, "POST", path, body=b"0123456789" * 10)
        headers["Content-Length"] = "100"
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(request_head("POST", path, f"{host}:{port}", headers) + b"0123456789")
        if how == "shutdown":
            s.shutdown(socket.SHUT_WR)
            data = read_head(s, timeout=5)
            if data:
                st, _ = parse_head(data)
                assert st is not None and 400 <= st < 500, data[:300]
        s.close()
    assert_serving(server, lam, healthy)


def test_SLOW_trickled_headers_are_cut_at_header_timeout(server, lam, healthy):
    """SLOW (~10 s): a client dribbling one header byte every 0.5 s is disconnected after
    lambent's 10 s header timeout, and everyone else is served meanwhile."""
    host, port = hostport(server)
    head = f"GET {LIST_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode() + b"a" * 1000
    s = socket.create_connection((host, port), timeout=5)
    start = time.monotonic()
    closed_at = None
    served_meanwhile = False
    try:
        for i in range(len(head)):
            try:
                s.send(head[i:i + 1])
            except OSError:
                closed_at = time.monotonic() - start
                break
            readable, _, _ = select.select([s], [], [], 0.5)
            if readable:
                try:
                    s.recv(65536)  # EOF, or a 408 just before the close
                except OSError:
                    pass
                closed_at = time.monotonic() - start
                break
            if not served_meanwhile and time.monotonic() - start > 3:
                assert_serving(server, lam, healthy)
                served_meanwhile = True
            if time.monotonic() - start > 14:
                break
    finally:
        s.close()
    assert closed_at is not None, "connection still open after 14 s of trickled headers"
    assert 8.0 <= closed_at <= 13.0, f"closed after {closed_at:.1f}s"
    assert served_meanwhile
    assert_serving(server, lam, healthy)


def test_many_idle_connections_do_not_block_invokes(server, lam, healthy):
    host, port = hostport(server)
    socks = []
    try:
        for i in range(200):
            s = socket.create_connection((host, port), timeout=5)
            if i % 2:
                s.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n")  # half a request
            socks.append(s)
        start = time.monotonic()
        assert_serving(server, lam, healthy)
        assert time.monotonic() - start < 5.0
        # A brand-new client connection, too.
        fresh = server.client("lambda")
        assert fresh.get_function(FunctionName=healthy)["Configuration"]["FunctionName"] == healthy
    finally:
        for s in socks:
            s.close()
    assert_serving(server, lam, healthy)


def test_thousands_of_stalled_connections_from_one_address_lock_out_only_that_address(fresh_server):
    """5,000 connections from 127.0.0.1 that send nothing or half a request line: lambent
    keeps its share for 127.0.0.1 and closes the rest at once, so another address (and the
    connection a client already had) is served as fast as ever."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 5000 + 1000
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"this process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    s = fresh_server()
    lam = s.client("lambda")
    name = unique("flood")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Timeout=30, Code={"ZipFile": make_zip({"app.py": HEALTHY_SRC})})
    host, port = hostport(s)
    path = invocations_path(name)

    def other_address(method, path, body=b""):
        headers = signed_headers(s, method, path, body) if method == "POST" else {}
        conn = http.client.HTTPConnection(host, port, timeout=10, source_address=("127.0.0.2", 0))
        start = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read(), time.monotonic() - start
        finally:
            conn.close()

    def on(conn, n):
        body = json.dumps({"n": n}).encode()
        conn.request("POST", path, body=body, headers=signed_headers(s, "POST", path, body))
        r = conn.getresponse()
        return r.status, json.loads(r.read())

    # Warm: the environment is started, and a client's connection from 127.0.0.1 is open
    # (used every second so the header timeout never takes it for idle).
    assert invoke(lam, name, {"n": 0})[1] == {"echo": {"n": 0}}
    assert other_address("POST", path, b'{"n": 1}')[0] == 200
    kept = http.client.HTTPConnection(host, port, timeout=10)
    assert on(kept, 2) == (200, {"echo": {"n": 2}})
    last_used = time.monotonic()
    flood = []
    try:
        for i in range(5000):
            if time.monotonic() - last_used > 1:
                assert on(kept, i) == (200, {"echo": {"n": i}})
                last_used = time.monotonic()
            c = socket.socket()
            c.setblocking(True)
            c.settimeout(5)
            c.connect((host, port))
            if i % 2:
                try:
                    c.send(b"POST /2015-03-31/functions HT")  # half a request line
                except OSError:
                    pass  # already closed: over the address's share
            flood.append(c)
        st, body, took = other_address("GET", "/_lambent/health")
        assert (st, body) == (200, b"ok\n")
        assert took < 1.0, f"health took {took:.3f}s"
        timings = []
        for n in range(3):
            st, body, took = other_address("POST", path, json.dumps({"n": n}).encode())
            assert (st, json.loads(body)) == (200, {"echo": {"n": n}})
            timings.append(took)
        assert min(timings) < 0.1, timings
        # The connection opened before the flood is still served.
        assert on(kept, 9) == (200, {"echo": {"n": 9}})
        # A new connection from the flooding address is closed at once.
        with socket.create_connection((host, port), timeout=5) as late:
            late.sendall(b"GET /_lambent/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_head(late, timeout=5) == b""
    finally:
        kept.close()
        for c in flood:
            c.close()
    # Once the flood is gone, 127.0.0.1 gets its share back.
    deadline = time.monotonic() + 10
    while True:
        try:
            st, _, _ = raw(s, "GET", "/_lambent/health", timeout=2)
            if st == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "127.0.0.1 is still refused after the flood"
        time.sleep(0.1)
    assert s.alive()


# ---------------------------------------------------------------------------------------------
# archives


@pytest.mark.parametrize(
    "zip_bytes",
    [
        b"this is plainly not a zip archive",
        b"",
        zip_entries([]),
        b"PK\x03\x04" + os.urandom(2000),
        b"PK\x05\x06" + b"\xff" * 18,
    ],
    ids=["not-a-zip", "empty-bytes", "empty-zip", "garbage-after-magic", "lying-eocd"],
)
def test_unusable_archives_are_invalid_parameter(server, lam, healthy, zip_bytes):
    create_raises(lam, zip_bytes)
    assert_serving(server, lam, healthy)


def test_encrypted_entry_is_refused(server, lam, healthy):
    zip_bytes = bytearray(zip_entries([("app.py", GOOD_APP, FILE), ("secret.txt", b"top secret", FILE)]))
    central, local = header_offsets(bytes(zip_bytes))[1]
    flags = struct.unpack_from("<H", zip_bytes, central + 8)[0] | 1
    struct.pack_into("<H", zip_bytes, central + 8, flags)
    struct.pack_into("<H", zip_bytes, local + 6, flags)
    msg = create_raises(lam, bytes(zip_bytes))
    assert "encrypted" in msg.lower(), msg
    assert_serving(server, lam, healthy)


def test_zip_bomb_is_refused(server, lam, healthy):
    bomb = zip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    msg = create_raises(lam, bomb)
    assert msg == "Unzipped size must be smaller than 262144000 bytes", msg
    assert_serving(server, lam, healthy)


def test_zip_bomb_with_lying_sizes_is_refused(server, lam, healthy):
    """The headers claim 1 KiB; the data inflates to 300 MB. Counting must use real bytes."""
    bomb = bytearray(zip_bomb())
    central, local = header_offsets(bytes(bomb))[0]
    struct.pack_into("<I", bomb, central + 24, 1024)
    struct.pack_into("<I", bomb, local + 22, 1024)
    create_raises(lam, bytes(bomb))
    assert no_temp_leftovers(server.data_dir) == []
    assert_serving(server, lam, healthy)


@pytest.mark.parametrize(
    "name",
    ["../x", "/etc/x", "..\\x", "a/../../x", "./../x", "C:\\x", "a#b"],
    ids=["dotdot", "absolute", "backslash-dotdot", "inner-dotdot", "dot-dotdot", "drive", "nul-byte"],
)
def test_unsafe_entry_names_are_refused(server, lam, healthy, name):
    zip_bytes = zip_entries([("app.py", GOOD_APP, FILE), (name, b"x", FILE)])
    if name == "a#b":
        assert zip_bytes.count(b"a#b") == 2  # local and central header
        zip_bytes = zip_bytes.replace(b"a#b", b"a\x00b")
    create_raises(lam, zip_bytes)
    assert_serving(server, lam, healthy)


def test_zip_slip_writes_nothing_outside(server, lam, healthy):
    tag = uuid.uuid4().hex
    targets = [f"/tmp/lambent-zipslip-{tag}-{i}" for i in range(3)]
    try:
        for zip_bytes in [
            zip_entries([("app.py", GOOD_APP, FILE), ("../../../../../../" + targets[0].lstrip("/"), b"pwn", FILE)]),
            zip_entries([("app.py", GOOD_APP, FILE), (targets[1], b"pwn", FILE)]),
            # Through a symlink entry: link -> /tmp, then link/<name>.
            zip_entries([("app.py", GOOD_APP, FILE), ("esc", b"/tmp", LINK),
                         ("esc/" + os.path.basename(targets[2]), b"pwn", FILE)]),
            zip_entries([("app.py", GOOD_APP, FILE), ("esc", b"../../../../../../tmp", LINK),
                         ("esc/" + os.path.basename(targets[2]), b"pwn", FILE)]),
        ]:
            create_raises(lam, zip_bytes)
        for t in targets:
            assert not os.path.lexists(t), f"{t} was written outside the data dir"
    finally:
        for t in targets:
            if os.path.lexists(t):
                os.remove(t)
    assert_serving(server, lam, healthy)


def test_duplicate_entries_are_refused(server, lam, healthy):
    for entries in [
        [("app.py", GOOD_APP, FILE), ("app.py", b"def handler(e, c): return 'evil'\n", FILE)],
        [("app.py", GOOD_APP, FILE), ("./app.py", b"x", FILE)],
    ]:
        create_raises(lam, zip_entries(entries))
    assert_serving(server, lam, healthy)


@pytest.mark.parametrize("target", [b"/etc/passwd", b"../../x", b"..", b"a/../../x"])
def test_symlink_out_of_the_code_is_refused(server, lam, healthy, target):
    create_raises(lam, zip_entries([("app.py", GOOD_APP, FILE), ("link", target, LINK)]))
    assert_serving(server, lam, healthy)


def test_hostile_code_update_keeps_the_old_code(server, lam, healthy, function):
    name = function({"app.py": "def handler(e, c):\n    return 'original'\n"})
    assert invoke(lam, name, {})[1] == "original"
    for zip_bytes in [
        zip_entries([("app.py", GOOD_APP, FILE), ("../evil.py", b"x", FILE)]),
        zip_entries([("app.py", GOOD_APP, FILE), ("link", b"/etc/passwd", LINK)]),
        b"not a zip",
        zip_bomb(),
    ]:
        with pytest.raises(ClientError) as e:
            lam.update_function_code(FunctionName=name, ZipFile=zip_bytes)
        assert error_code(e) == "InvalidParameterValueException", e.value.response
        assert status(e) == 400
    assert invoke(lam, name, {})[1] == "original"
    assert_serving(server, lam, healthy)


def test_zip_over_50_mib_is_413(server, lam, healthy):
    limit = 52_428_800
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("app.py", GOOD_APP)
        z.writestr("blob.bin", os.urandom(limit))
    zip_bytes = buf.getvalue()
    assert limit < len(zip_bytes) < limit + 4096
    msg = create_raises(lam, zip_bytes, "RequestEntityTooLargeException", 413)
    assert msg == f"Zipped size must be smaller than {limit} bytes", msg
    assert_serving(server, lam, healthy)


# ---------------------------------------------------------------------------------------------
# handlers and environment


@pytest.mark.parametrize(
    "handler",
    ["/etc/passwd.handler", "../x.handler", "a/../../x.handler", "app handler", " app.handler",
     "app.handler\n", "a" * 121 + ".handler", ""],
    ids=["absolute", "dotdot", "inner-dotdot", "space", "leading-space", "newline", "129-chars", "empty"],
)
def test_bad_handlers_are_refused(server, lam, healthy, handler):
    if handler.startswith("a" * 121):
        assert len(handler) == 129
    name = unique("badhandler")
    try:
        with pytest.raises(ClientError) as e:
            lam.create_function(FunctionName=name, Runtime="python3.12", Handler=handler, Role=ROLE,
                                Code={"ZipFile": make_zip({"app.py": GOOD_APP.decode()})})
        assert error_code(e) in HANDLER_ERRORS, e.value.response
        assert status(e) == 400
        with pytest.raises(ClientError) as nf:
            lam.get_function(FunctionName=name)
        assert error_code(nf) == "ResourceNotFoundException"
    finally:
        try:
            lam.delete_function(FunctionName=name)
        except ClientError:
            pass
    assert_serving(server, lam, healthy)


def test_bad_handler_update_leaves_function_working(server, lam, healthy, function):
    name = function({"app.py": "def handler(e, c):\n    return 'still here'\n"})
    for handler in ["/etc/passwd.handler", "../x.handler", "a" * 129]:
        with pytest.raises(ClientError) as e:
            lam.update_function_configuration(FunctionName=name, Handler=handler)
        assert error_code(e) in HANDLER_ERRORS, e.value.response
        assert status(e) == 400
    assert lam.get_function_configuration(FunctionName=name)["Handler"] == "app.handler"
    assert invoke(lam, name, {})[1] == "still here"
    assert_serving(server, lam, healthy)


@pytest.mark.parametrize(
    "variables, code",
    [({"AWS_REGION": "eu-west-1"}, "InvalidParameterValueException"),
     # AWS's key pattern [a-zA-Z]([a-zA-Z0-9_])+ refuses a leading "_" before the reserved check.
     ({"_HANDLER": "x.y"}, "ValidationException"),
     ({"AWS_LAMBDA_RUNTIME_API": "169.254.169.254:80"}, "InvalidParameterValueException"),
     ({"AWS_ACCESS_KEY_ID": "AKIAEVIL"}, "InvalidParameterValueException"),
     ({"LAMBDA_TASK_ROOT": "/"}, "InvalidParameterValueException"),
     ({"BIG": "x" * 4097}, "InvalidParameterValueException"),
     ({f"V{i}": "y" * 100 for i in range(45)}, "InvalidParameterValueException")],
    ids=["AWS_REGION", "_HANDLER", "RUNTIME_API", "ACCESS_KEY", "TASK_ROOT", "one-over-4KB", "many-over-4KB"],
)
def test_bad_environment_is_refused(server, lam, healthy, variables, code):
    create_raises(lam, make_zip({"app.py": GOOD_APP.decode()}), code, Environment={"Variables": variables})
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=healthy, Environment={"Variables": variables})
    assert error_code(e) == code, e.value.response
    assert status(e) == 400
    assert_serving(server, lam, healthy)


# ---------------------------------------------------------------------------------------------
# misbehaving runtimes (provided.al2023, bootstrap = a stdlib-only Python script)

RUNTIME_LIB = r'''#!/usr/bin/python3
import http.client, json, os, sys, threading, time, uuid

API = os.environ["AWS_LAMBDA_RUNTIME_API"]


def call(method, path, body=None):
    conn = http.client.HTTPConnection(API, timeout=None)
    try:
        conn.request(method, "/2018-06-01" + path, body=body)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def next_event():
    status, headers, data = call("GET", "/runtime/invocation/next")
    return headers["lambda-runtime-aws-request-id"], json.loads(data)


def respond(rid, body):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    status, _, data = call("POST", "/runtime/invocation/%s/response" % rid, body)
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = data.decode("latin-1")
    return {"status": status, "body": parsed}


def serve_forever(tag):
    while True:
        rid, event = next_event()
        respond(rid, {tag: event})

'''

GOOD_BOOTSTRAP = RUNTIME_LIB + 'serve_forever("good")\n'


def provided(function, main, timeout=5, **kw):
    return function({"bootstrap": (RUNTIME_LIB + main, 0o755)}, runtime="provided.al2023",
                    handler="bootstrap", Timeout=timeout, **kw)


def assert_timed_out(lam, name, seconds):
    start = time.monotonic()
    resp, body = invoke(lam, name, {"x": 1})
    elapsed = time.monotonic() - start
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled", body
    assert body["errorType"] == "Sandbox.Timedout", body
    assert f"Task timed out after {seconds:.2f} seconds" in body["errorMessage"], body
    assert seconds - 0.2 <= elapsed <= seconds + 4, f"took {elapsed:.2f}s"


def becomes_good(lam, name):
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"bootstrap": (GOOD_BOOTSTRAP, 0o755)}))
    resp, body = invoke(lam, name, {"after": "update"})
    assert "FunctionError" not in resp, body
    assert body == {"good": {"after": "update"}}


def test_runtime_answering_twice_keeps_the_first_answer(server, lam, healthy, function):
    name = provided(function, r'''
second = None
while True:
    rid, event = next_event()
    if event.get("step") == 1:
        first = respond(rid, {"answer": "first"})
        second = respond(rid, {"answer": "second"})
        second["first_status"] = first["status"]
    else:
        respond(rid, {"previous_second": second})
''')
    resp, body = invoke(lam, name, {"step": 1})
    assert "FunctionError" not in resp, body
    assert body == {"answer": "first"}
    resp, body = invoke(lam, name, {"step": 2})
    assert "FunctionError" not in resp, body
    second = body["previous_second"]
    assert second["first_status"] == 202, second
    assert second["status"] == 400, second
    assert second["body"]["errorType"] == "InvalidRequestID", second
    assert_serving(server, lam, healthy)


def test_runtime_answering_for_another_request_id_is_refused(server, lam, healthy, function):
    name = provided(function, r'''
previous = None
while True:
    rid, event = next_event()
    result = {"bogus": respond(str(uuid.uuid4()), {"answer": "forged"})}
    result["empty"] = respond("", {"answer": "forged"})
    if previous:
        result["stale"] = respond(previous, {"answer": "stale"})
    result["event"] = event
    respond(rid, result)
    previous = rid
''')
    resp, body = invoke(lam, name, {"n": 1})
    assert "FunctionError" not in resp, body
    assert body["event"] == {"n": 1}
    for key in ("bogus", "empty"):
        assert body[key]["status"] in (400, 404), body
    assert body["bogus"]["status"] == 400
    assert body["bogus"]["body"]["errorType"] == "InvalidRequestID", body
    resp, body = invoke(lam, name, {"n": 2})
    assert body["event"] == {"n": 2}, body
    assert body["stale"]["status"] == 400, body
    assert body["stale"]["body"]["errorType"] == "InvalidRequestID", body
    assert_serving(server, lam, healthy)


def test_runtime_answering_only_foreign_ids_times_out(server, lam, healthy, function):
    name = provided(function, r'''
while True:
    rid, event = next_event()
    respond(str(uuid.uuid4()), {"answer": "forged"})
    time.sleep(3600)
''', timeout=2)
    assert_timed_out(lam, name, 2)
    assert_serving(server, lam, healthy)
    becomes_good(lam, name)


def test_runtime_posting_garbage_bytes_is_passed_through(server, lam, healthy, function):
    garbage = bytes(range(256)) + b"\x00not json at all {\xff"
    name = provided(function, r'''
GARBAGE = bytes(range(256)) + b"\x00not json at all {\xff"
while True:
    rid, event = next_event()
    respond(rid, GARBAGE)
''')
    for _ in range(2):
        resp = lam.invoke(FunctionName=name, Payload=b"{}")
        raw_payload = resp["Payload"].read()
        assert resp["StatusCode"] == 200
        assert "FunctionError" not in resp, raw_payload
        assert raw_payload == garbage
    assert_serving(server, lam, healthy)


def test_runtime_never_answering_times_out(server, lam, healthy, function):
    name = provided(function, r'''
rid, event = next_event()
time.sleep(3600)
''', timeout=2)
    assert_timed_out(lam, name, 2)
    assert_serving(server, lam, healthy)
    becomes_good(lam, name)


def test_runtime_calling_next_twice_in_parallel(server, lam, healthy, function):
    """After its first invocation the runtime opens a `next`, then (0.3 s later, while the first
    is still pending) a second one: the second is refused with a 4xx, the first gets the next
    invocation. The test waits 1.5 s before that invocation so both are surely in flight."""
    name = provided(function, r'''
rid, event = next_event()
respond(rid, {"first": event})
results = {}


def worker(which):
    results[which] = call("GET", "/runtime/invocation/next")


a = threading.Thread(target=worker, args=("a",), daemon=True)
a.start()
time.sleep(0.3)
b = threading.Thread(target=worker, args=("b",), daemon=True)
b.start()
a.join()
b.join(timeout=1.0)
status, headers, data = results["a"]
second = results.get("b")
rid = headers["lambda-runtime-aws-request-id"]
respond(rid, {
    "event": json.loads(data),
    "second": None if second is None else {"status": second[0], "body": second[2].decode("latin-1")},
})
serve_forever("again")
''')
    resp, body = invoke(lam, name, {"n": 1})
    assert "FunctionError" not in resp, body
    assert body == {"first": {"n": 1}}
    time.sleep(1.5)
    resp, body = invoke(lam, name, {"n": 2})
    assert "FunctionError" not in resp, body
    assert body["event"] == {"n": 2}, body
    assert body["second"] is not None, "the second parallel `next` was neither refused nor answered"
    assert 400 <= body["second"]["status"] < 500, body
    resp, body = invoke(lam, name, {"n": 3})
    assert "FunctionError" not in resp, body
    assert body == {"again": {"n": 3}}
    assert_serving(server, lam, healthy)


def test_function_crashing_in_init(server, lam, healthy, function):
    name = function({"app.py": "raise RuntimeError('boom during init')\ndef handler(e, c):\n    return 1\n"},
                    Timeout=10)
    for _ in range(2):
        resp, body = invoke(lam, name, {})
        assert resp["StatusCode"] == 200
        assert resp.get("FunctionError") == "Unhandled", body
        assert "boom during init" in body["errorMessage"], body
    assert_serving(server, lam, healthy)


def test_bootstrap_exiting_in_init(server, lam, healthy, function):
    name = function({"bootstrap": ("#!/usr/bin/python3\nimport sys\nprint('dying')\nsys.exit(3)\n", 0o755)},
                    runtime="provided.al2023", handler="bootstrap", Timeout=10)
    for _ in range(2):
        resp, body = invoke(lam, name, {})
        assert resp["StatusCode"] == 200
        assert resp.get("FunctionError") == "Unhandled", body
        assert body["errorType"] == "Runtime.ExitError", body
        assert "exit status 3" in body["errorMessage"], body
    assert_serving(server, lam, healthy)
    becomes_good(lam, name)


@pytest.mark.parametrize("shape", ["lines", "one-line"])
def test_function_printing_50_mb(server, lam, healthy, function, shape):
    newline = "\\n" if shape == "lines" else ""
    name = function({"app.py": f'''
import sys
def handler(event, context):
    chunk = "y" * 1023 + "{newline}"
    for _ in range(50 * 1024):
        sys.stdout.write(chunk)
    sys.stdout.write("\\nlast line\\n")
    sys.stdout.flush()
    return "printed"
'''}, Timeout=60)
    start = time.monotonic()
    resp, body = invoke(lam, name, {}, LogType="Tail")
    elapsed = time.monotonic() - start
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, body
    assert body == "printed"
    assert len(base64.b64decode(resp.get("LogResult", ""))) <= 4096
    tail = log_tail(resp)
    assert "last line" in tail and "REPORT RequestId" in tail, tail[-500:]
    assert elapsed < 30, f"took {elapsed:.1f}s"
    assert_serving(server, lam, healthy)
