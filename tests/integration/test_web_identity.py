"""AssumeRoleWithWebIdentity: an identity provider of the test's own (RS256 keys served at
its discovery document on 127.0.0.1), registered with IAM, whose ID tokens become sessions
of a role that trusts it, unsigned, as browsers and SDKs call it."""

import http.server
import json
import threading
import time
import uuid

import boto3
import botocore
import botocore.config
import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import error_code

ACCOUNT = "000000000000"


class Provider:
    """A minimal OpenID Connect provider: discovery document, key set, and signed tokens."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:8]
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks"}
                elif self.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                    jwk.update(kid=provider.kid, alg="RS256", use="sig")
                    body = {"keys": [jwk]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_port}"
        self.host = self.issuer.split("://", 1)[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def token(self, sub="user-1", aud="app", expires_in=300, key=None, **claims):
        now = int(time.time())
        payload = {"iss": self.issuer, "sub": sub, "aud": aud, "iat": now,
                   "exp": now + expires_in, **claims}
        return jwt.encode(payload, key or self.key, algorithm="RS256",
                          headers={"kid": self.kid})


@pytest.fixture(scope="module")
def provider(server):
    p = Provider()
    iam = server.client("iam")
    arn = iam.create_open_id_connect_provider(Url=p.issuer, ClientIDList=["app"])[
        "OpenIDConnectProviderArn"]
    p.arn = arn
    yield p
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    p.httpd.shutdown()


@pytest.fixture(scope="module")
def role(server, provider):
    iam = server.client("iam")
    name = f"web-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider.arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{provider.host}:aud": "app",
                                           f"{provider.host}:sub": "user-1"}},
        }],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}],
    }))
    return name, arn


def unsigned_sts(server):
    return boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        config=botocore.config.Config(signature_version=botocore.UNSIGNED,
                                      retries={"max_attempts": 1}),
    )


def assume(server, role_arn, token, **kwargs):
    return unsigned_sts(server).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="browser", WebIdentityToken=token, **kwargs)


def refused(e, code, message=None):
    assert error_code(e) == code, e.value.response["Error"]
    if message is not None:
        assert e.value.response["Error"]["Message"] == message


def test_a_token_of_a_trusted_provider_becomes_a_session_of_the_role(server, provider, role):
    name, arn = role
    r = assume(server, arn, provider.token())
    assert r["SubjectFromWebIdentityToken"] == "user-1"
    assert r["Provider"] == provider.issuer
    assert r["Audience"] == "app"
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/browser"
    c = r["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    creds = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                 aws_session_token=c["SessionToken"])
    assert server.client("sts", **creds).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/browser")
    lam = server.client("lambda", **creds)
    lam.list_functions()
    with pytest.raises(ClientError) as e:
        lam.get_account_settings()
    refused(e, "AccessDeniedException")


def test_the_trust_policy_conditions_see_the_tokens_claims(server, provider, role):
    with pytest.raises(ClientError) as e:
        assume(server, role[1], provider.token(sub="user-2"))
    refused(e, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_tokens_that_fail_a_check_get_stss_errors(server, provider, role):
    arn = role[1]
    with pytest.raises(ClientError) as e:
        assume(server, arn, provider.token(aud="another-app"))
    refused(e, "InvalidIdentityToken", "Incorrect token audience")
    with pytest.raises(ClientError) as e:
        assume(server, arn, provider.token(expires_in=-120))
    refused(e, "ExpiredTokenException")
    assert e.value.response["Error"]["Message"].startswith("Token expired: current date/time")
    forged = provider.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(ClientError) as e:
        assume(server, arn, forged)
    refused(e, "InvalidIdentityToken")
    other = provider.token(iss="https://unknown.example.com")
    with pytest.raises(ClientError) as e:
        assume(server, arn, other)
    refused(e, "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://unknown.example.com")
    with pytest.raises(ClientError) as e:
        assume(server, arn, "not.a.token")
    refused(e, "InvalidIdentityToken")
    # A shared-secret token, even with the right claims, is never a provider's.
    hs = jwt.encode({"iss": provider.issuer, "sub": "user-1", "aud": "app",
                     "exp": int(time.time()) + 300}, "s" * 32, algorithm="HS256")
    with pytest.raises(ClientError) as e:
        assume(server, arn, hs)
    refused(e, "InvalidIdentityToken")
    with pytest.raises(ClientError) as e:
        assume(server, arn, provider.token(), DurationSeconds=7200)
    refused(e, "ValidationError")


def test_other_unsigned_sts_calls_are_refused(server):
    with pytest.raises(ClientError) as e:
        unsigned_sts(server).get_caller_identity()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_sessions_policy_variables_read_the_tokens_subject(server, provider):
    """Per-user prefixes, as an identity pool's roles grant them: `${HOST:sub}`."""
    iam, s3 = server.client("iam"), server.client("s3")
    bucket = f"web-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = f"home-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider.arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{provider.host}:aud": "app"}}}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="home", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                       "Resource": f"arn:aws:s3:::{bucket}/home/${{{provider.host}:sub}}/*"}],
    }))
    c = assume(server, arn, provider.token(sub="alice"))["Credentials"]
    us3 = server.client("s3", aws_access_key_id=c["AccessKeyId"],
                        aws_secret_access_key=c["SecretAccessKey"],
                        aws_session_token=c["SessionToken"])
    try:
        us3.put_object(Bucket=bucket, Key="home/alice/a.txt", Body=b"a")
        with pytest.raises(ClientError) as e:
            us3.put_object(Bucket=bucket, Key="home/bob/a.txt", Body=b"b")
        refused(e, "AccessDenied")
    finally:
        s3.delete_object(Bucket=bucket, Key="home/alice/a.txt")
        s3.delete_bucket(Bucket=bucket)
