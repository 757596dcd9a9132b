"""`auth: jwt` — OAuth bearer tokens (Cognito-style client credentials) verified against a JWKS:
the official `mcp` client with a token, raw HTTP for every refusal (malformed, expired, not yet
valid, wrong audience, wrong issuer, badly signed, unsigned, HMAC-confused, missing scope), RFC 9728
protected-resource metadata, session isolation between tenants, a JWKS URL with key rotation and
an unreachable key server, and logs that never carry a token.

Tokens are made here with `cryptography` (RS256/ES256 written out by hand: header.payload.signature,
base64url), so nothing in the test shares code with jwt-kit, which the host uses.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import anyio
import httpx
import httpx2
import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from conftest import Host, free_port
from mcpwire import MODERN, Session, result_of, stateless_call

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool"
AUDIENCE = "mcp-host-resource"
SCOPE = "mcp/tools"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class RSAKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": uint_b64(numbers.n), "e": uint_b64(numbers.e)}

    def sign(self, signing_input: bytes) -> bytes:
        return self.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


class ECKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "EC", "kid": self.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
                "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}

    def sign(self, signing_input: bytes) -> bytes:
        r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def token(key: RSAKey | ECKey, claims: dict[str, Any], *, kid: str | None = None, alg: str | None = None) -> str:
    header = {"alg": alg or ("RS256" if isinstance(key, RSAKey) else "ES256"), "typ": "JWT", "kid": kid or key.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}".encode()
    return signing_input.decode() + "." + b64url(key.sign(signing_input))


def claims(client_id: str = "client-acme", **overrides: Any) -> dict[str, Any]:
    """A Cognito client-credentials access token: no `aud`, `client_id` and `scope` instead."""
    now = int(time.time())
    base = {"sub": client_id, "token_use": "access", "scope": f"{SCOPE} other/read", "auth_time": now,
            "iss": ISSUER, "exp": now + 600, "iat": now, "version": 2, "jti": "7d1c", "client_id": client_id}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


RSA = RSAKey("rsa-1")
EC = ECKey("ec-1")
ATTACKER = RSAKey("rsa-1")  # same kid, different key


def jwt_config(jwks: dict[str, Any], **jwt: Any) -> dict[str, Any]:
    auth = {"issuer": ISSUER, "audience": [AUDIENCE, "client-acme", "client-beta"], "required_scopes": [SCOPE],
            "tenant_claim": "client_id"}
    auth.update(jwks)
    auth.update(jwt)
    return {
        "auth": {"mode": "jwt", "jwt": auth},
        "tenants": [
            {"id": "acme", "jwt_claim_values": ["client-acme"], "plugins": {"echo": {"greeting": "hola acme"}, "cecho": {}}},
            {"id": "beta", "jwt_claim_values": ["client-beta"], "plugins": {"echo": {"greeting": "hi beta"}}},
        ],
    }


@pytest.fixture(scope="module")
def jwks_file(workroot: Path) -> Path:
    path = workroot / "jwks.json"
    path.write_text(json.dumps({"keys": [RSA.jwk(), EC.jwk()]}))
    return path


@pytest.fixture(scope="module")
def jwt_host(workroot: Path, jwks_file: Path) -> Iterator[Host]:
    h = Host(workroot, ("echo", "cecho"), config=jwt_config({"jwks_file": str(jwks_file)}))
    yield h
    h.stop()


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def call(host: Host, http: httpx.Client, tok: str | None, method: str = "tools/list", params: Any = None,
         url: str | None = None) -> httpx.Response:
    r, _ = stateless_call(http, url or host.mcp_url, method, params, headers=bearer(tok) if tok else None)
    return r


def challenge(r: httpx.Response) -> str:
    value = r.headers.get("www-authenticate", "")
    assert value.startswith("Bearer "), r.headers
    return value


def run(fn: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    async def main() -> Any:
        with anyio.fail_after(timeout):
            return await fn()

    return anyio.run(main)


# ------------------------------------------------------------------------------ accepted --


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_official_client_with_a_bearer_token(jwt_host: Host, mode: str) -> None:
    async def as_client(tok: str) -> tuple[list[str], dict[str, Any]]:
        async with httpx2.AsyncClient(headers=bearer(tok)) as http:
            async with Client(streamable_http_client(jwt_host.mcp_url, http_client=http), mode=mode,
                              read_timeout_seconds=20) as c:
                names = [t.name for t in (await c.list_tools()).tools]
                who = (await c.call_tool("echo.whoami", {})).model_dump(by_alias=True, exclude_none=True, mode="json")
                return names, who

    names, who = run(lambda: as_client(token(RSA, claims("client-acme"))))
    assert "echo.echo" in names and "cecho.echo" in names, names
    assert who["structuredContent"] == {"tenant": "acme", "greeting": "hola acme"}, who
    names, who = run(lambda: as_client(token(EC, claims("client-beta"))))  # ES256 works too
    assert "echo.echo" in names and not any(n.startswith("cecho.") for n in names), names
    assert who["structuredContent"] == {"tenant": "beta", "greeting": "hi beta"}, who


def test_standard_aud_claim_and_scp_array_are_accepted(jwt_host: Host, http: httpx.Client) -> None:
    tok = token(RSA, claims("client-acme", aud=[AUDIENCE, "someone-else"], scope=None, scp=[SCOPE]))
    assert call(jwt_host, http, tok).status_code == 200


# ------------------------------------------------------------------------------- refused --


def test_missing_token_is_401_with_resource_metadata(jwt_host: Host, http: httpx.Client) -> None:
    r = call(jwt_host, http, None)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "Authorization" in r.json()["error"]
    value = challenge(r)
    assert f'resource_metadata="{jwt_host.url}/.well-known/oauth-protected-resource/mcp"' in value, value
    assert "error=" not in value  # RFC 6750 §3.1: no error code without credentials


@pytest.mark.parametrize("bad, why", [
    ("not-a-jwt", "malformed"),
    ("a.b.c", "malformed"),
    (token(RSA, claims(exp=int(time.time()) - 3600)), "expired"),
    (token(RSA, claims(nbf=int(time.time()) + 3600)), "not valid yet"),
    (token(RSA, claims(iss="https://evil.example/pool")), "issuer"),
    (token(RSA, claims("client-nobody")), "audience"),
    (token(RSA, claims(aud="other-api")), "audience"),
    (token(ATTACKER, claims()), "signature"),
    (token(RSA, claims(), kid="unknown-kid"), "key"),
    (token(RSA, claims(exp=None)), "expiry"),
])
def test_bad_tokens_are_401_invalid_token(jwt_host: Host, http: httpx.Client, bad: str, why: str) -> None:
    r = call(jwt_host, http, bad)
    assert r.status_code == 401, r.text
    assert why in r.json()["error"], r.json()
    assert 'error="invalid_token"' in challenge(r)
    assert bad not in r.text and bad not in r.headers.get("www-authenticate", "")


def test_unsigned_and_hmac_confused_tokens_are_refused(jwt_host: Host, http: httpx.Client) -> None:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": RSA.kid}).encode())
    unsigned = f"{header}.{b64url(json.dumps(claims()).encode())}."
    assert call(jwt_host, http, unsigned).status_code == 401
    # HS256 keyed with the RSA public key (the classic algorithm-confusion attack).
    pem = RSA.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": RSA.kid}).encode())
    signing_input = f"{head}.{b64url(json.dumps(claims()).encode())}".encode()
    mac = hmac.HMAC(pem, hashes.SHA256())
    mac.update(signing_input)
    confused = signing_input.decode() + "." + b64url(mac.finalize())
    assert call(jwt_host, http, confused).status_code == 401


def test_missing_scope_is_403_insufficient_scope(jwt_host: Host, http: httpx.Client) -> None:
    r = call(jwt_host, http, token(RSA, claims(scope="other/read")))
    assert r.status_code == 403, r.text
    value = challenge(r)
    assert 'error="insufficient_scope"' in value and f'scope="{SCOPE}"' in value, value
    assert "resource_metadata=" in value
    assert SCOPE in r.json()["error"]


def test_other_authorization_schemes_and_query_tokens_are_refused(jwt_host: Host, http: httpx.Client) -> None:
    tok = token(RSA, claims())
    r, _ = stateless_call(http, jwt_host.mcp_url, "tools/list", headers={"Authorization": f"Basic {tok}"})
    assert r.status_code == 401
    for query in (f"access_token={tok}", f"token={tok}"):
        assert call(jwt_host, http, None, url=f"{jwt_host.mcp_url}?{query}").status_code == 401


# -------------------------------------------------------------------------- RFC 9728 --


def test_protected_resource_metadata(jwt_host: Host, http: httpx.Client) -> None:
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
        r = http.get(jwt_host.url + path)
        assert r.status_code == 200, (path, r.text)
        doc = r.json()
        assert doc["resource"] == jwt_host.mcp_url, doc
        assert doc["authorization_servers"] == [ISSUER]
        assert doc["scopes_supported"] == [SCOPE]
        assert doc["bearer_methods_supported"] == ["header"]
    assert http.get(jwt_host.url + "/.well-known/oauth-protected-resource/elsewhere").status_code == 404
    # Behind a TLS-terminating proxy the resource is the https URL the client used.
    r = http.get(jwt_host.url + "/.well-known/oauth-protected-resource/mcp",
                 headers={"Host": "mcp.example.com", "X-Forwarded-Proto": "https"})
    assert r.json()["resource"] == "https://mcp.example.com/mcp"


def test_metadata_is_absent_without_jwt_auth(host: Host, http: httpx.Client) -> None:
    assert http.get(host.url + "/.well-known/oauth-protected-resource").status_code == 404


# ------------------------------------------------------------------------- isolation --


def test_session_of_one_tenant_with_another_tenants_token_is_404(jwt_host: Host, http: httpx.Client) -> None:
    acme = Session(http, jwt_host.mcp_url, extra_headers=bearer(token(RSA, claims("client-acme"))))
    acme.initialize()
    stolen = Session(http, jwt_host.mcp_url, session_id=acme.session_id, init_result=acme.init_result,
                     extra_headers=bearer(token(RSA, claims("client-beta"))))
    r, _ = stolen.request("tools/list", {})
    assert r.status_code == 404, r.text
    r, req_id = acme.request("tools/call", {"name": "echo.whoami", "arguments": {}})
    assert result_of(r, req_id)["structuredContent"]["tenant"] == "acme"


def test_tokens_never_appear_in_logs(jwt_host: Host, http: httpx.Client) -> None:
    used = [token(RSA, claims("client-acme")), token(ATTACKER, claims()), token(RSA, claims(scope="x"))]
    for tok in used:
        call(jwt_host, http, tok)
    logs = jwt_host.logs()
    assert "request refused" in logs
    for tok in used:
        for part in tok.split("."):
            assert part not in logs, "a token (or part of one) appears in the logs"


# ---------------------------------------------------------------------- configuration --


@pytest.mark.parametrize("jwt, problem", [
    ({"issuer": "", "audience": "a", "jwks_file": "/x"}, "auth.jwt.issuer"),
    ({"issuer": ISSUER, "jwks_file": "/x"}, "auth.jwt.audience"),
    ({"issuer": ISSUER, "audience": "a"}, "exactly one of jwks_file and jwks_url"),
    ({"issuer": ISSUER, "audience": "a", "jwks_file": "/nonexistent/jwks.json"}, "cannot read /nonexistent/jwks.json"),
])
def test_bad_jwt_configuration_stops_the_host_naming_the_key(workroot: Path, jwt: dict[str, Any], problem: str) -> None:
    with pytest.raises(RuntimeError) as failure:
        Host(workroot, ("echo",), config={"auth": {"mode": "jwt", "jwt": jwt}, "tenants": [{"id": "a"}]})
    assert problem in str(failure.value)


# ----------------------------------------------------------------------- JWKS by URL --


class JWKSServer:
    """Serves a JWKS document that the test can rotate, and can go down."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0
        self.down = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests += 1
                if outer.down or self.path != "/.well-known/jwks.json":
                    self.send_response(503 if outer.down else 404)
                    self.end_headers()
                    return
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_jwks_url_rotation_and_outage(workroot: Path, http: httpx.Client) -> None:
    server = JWKSServer()
    server.down = True
    h = Host(workroot, ("echo",), config=jwt_config({"jwks_url": server.url}))
    try:
        # The key server is down: the host starts, and answers 503 (retry later) rather than 401.
        r = call(h, http, token(RSA, claims()))
        assert r.status_code == 503, r.text
        assert r.headers.get("retry-after") == "5"
        server.down = False
        server.keys = [RSA.jwk()]
        time.sleep(0.1)
        # With no keys at all the next request fetches again at once (nothing to serve with meanwhile).
        r = call(h, http, token(RSA, claims()))
        assert r.status_code == 200, r.text
        before = server.requests
        for _ in range(5):
            assert call(h, http, token(RSA, claims())).status_code == 200
        assert server.requests == before, "keys are cached, not fetched per request"
        # A token signed with a key the server does not publish yet: one refresh, then refused.
        rotated = RSAKey("rsa-2")
        fetched = server.requests
        assert call(h, http, token(rotated, claims())).status_code == 401
        assert server.requests == fetched + 1
        assert "JWKS refresh failed" in h.logs()  # the outage was logged, naming the source
    finally:
        h.stop()
        server.close()


def test_jwks_url_picks_up_a_rotated_key(workroot: Path, http: httpx.Client) -> None:
    server = JWKSServer()
    server.keys = [RSA.jwk()]
    h = Host(workroot, ("echo",), config=jwt_config({"jwks_url": server.url}))
    try:
        assert call(h, http, token(RSA, claims())).status_code == 200
        rotated = RSAKey("rsa-2")
        server.keys = [RSA.jwk(), rotated.jwk()]
        # The unknown kid triggers one refresh, which finds the new key.
        r = call(h, http, token(rotated, claims()))
        assert r.status_code == 200, r.text
        fetched = server.requests
        # Forged kids do not turn into fetches: at most one refresh per 30 s.
        for i in range(5):
            assert call(h, http, token(RSAKey(f"forged-{i}"), claims())).status_code == 401
        assert server.requests - fetched <= 1
    finally:
        h.stop()
        server.close()
