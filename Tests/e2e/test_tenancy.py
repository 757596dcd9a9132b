"""Tenants resolved from registered API keys: the official `mcp` client sending its key as a
header, raw HTTP for the refusals, isolation between tenants, the per-tenant rate limit, and logs
that never carry a key."""

from __future__ import annotations

import hashlib
import json
import subprocess
from typing import Any, Awaitable, Callable, Iterator

import anyio
import httpx
import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from conftest import HOST_BIN, Host
from mcpwire import INVALID_PARAMS, MODERN, Session, error_of, result_of, stateless_call, text_of

KEY_A = "tenant-alpha-key-5d1f0c7e9a"
KEY_B = "tenant-beta-key-81b2e4a6c3"
WRONG_KEY = "tenant-nobody-key-000000000"
KEYS = (KEY_A, KEY_B, WRONG_KEY)


def sha256_hex(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def tenancy_config(**tenancy: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "auth": {"mode": "api_key", "header": "x-api-key"},
        "tenants": [
            {"id": "alpha", "api_key_sha256": [sha256_hex(KEY_A)],
             "plugins": {"echo": {"greeting": "hola alpha"}, "cecho": {}}},
            {"id": "beta", "api_key_sha256": [sha256_hex(KEY_B)],
             "plugins": {"echo": {"greeting": "hi beta"}}},
        ],
    }
    if tenancy:
        config["tenancy"] = tenancy
    return config


@pytest.fixture(scope="module")
def tenant_host(workroot) -> Iterator[Host]:
    try:
        h = Host(workroot, ("echo", "cecho", "faults"), config=tenancy_config())
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield h
    h.stop()


def assert_no_key_in_logs(host: Host) -> None:
    logs = host.logs()
    assert logs.strip(), "no log lines were captured"
    for key in KEYS:
        assert key not in logs, f"a key appears in the logs:\n{logs[-3000:]}"
        assert sha256_hex(key) not in logs, "a key digest appears in the logs"


def run(fn: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    async def main() -> Any:
        with anyio.fail_after(timeout):
            return await fn()

    return anyio.run(main)


def dump(result: Any) -> dict[str, Any]:
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")


# -------------------------------------------------------------------------- mcp-host keys hash --


def test_keys_hash_prints_the_sha256_of_stdin() -> None:
    for given in (KEY_A + "\n", KEY_A, KEY_A + "\r\n"):
        out = subprocess.run([str(HOST_BIN), "keys", "hash"], input=given.encode(), capture_output=True, timeout=30)
        assert out.returncode == 0, out.stderr.decode()
        assert out.stdout.decode().strip() == sha256_hex(KEY_A)
    empty = subprocess.run([str(HOST_BIN), "keys", "hash"], input=b"", capture_output=True, timeout=30)
    assert empty.returncode != 0
    assert b"no key" in empty.stderr


def test_api_key_mode_may_bind_beyond_loopback_but_none_may_not(workroot) -> None:
    path = workroot / "tenancy-check.yaml"
    from conftest import to_yaml
    path.write_text(to_yaml({"server": {"host": "0.0.0.0"}, **tenancy_config()}) + "\n")
    ok = subprocess.run([str(HOST_BIN), "config", "check", "--config", str(path)], capture_output=True, timeout=30)
    assert ok.returncode == 0, ok.stderr.decode()
    path.write_text(to_yaml({"server": {"host": "0.0.0.0"}, "auth": {"mode": "none"}}) + "\n")
    refused = subprocess.run([str(HOST_BIN), "config", "check", "--config", str(path)], capture_output=True, timeout=30)
    assert refused.returncode != 0
    assert b"auth.mode" in refused.stderr and b"loopback" in refused.stderr


# ------------------------------------------------------------------------------- refusals --


def test_missing_key_is_401_with_json_body(tenant_host, http) -> None:
    r, _ = stateless_call(http, tenant_host.mcp_url, "tools/list")
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body.get("error"), str) and "x-api-key" in body["error"], body
    assert "x-api-key" in r.headers.get("www-authenticate", "")


def test_wrong_key_is_401(tenant_host, http) -> None:
    r, _ = stateless_call(http, tenant_host.mcp_url, "tools/list", headers={"x-api-key": WRONG_KEY})
    assert r.status_code == 401, r.text
    assert isinstance(r.json().get("error"), str)
    # The right key with a character changed is just as wrong.
    r, _ = stateless_call(http, tenant_host.mcp_url, "tools/list", headers={"x-api-key": KEY_A[:-1] + "X"})
    assert r.status_code == 401


def test_key_in_query_string_is_ignored(tenant_host, http) -> None:
    for query in (f"x-api-key={KEY_A}", f"api_key={KEY_A}", f"key={KEY_A}"):
        r, _ = stateless_call(http, f"{tenant_host.mcp_url}?{query}", "tools/list")
        assert r.status_code == 401, (query, r.text)


def test_legacy_initialize_without_key_is_401(tenant_host, http) -> None:
    r = http.post(tenant_host.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                                       "clientInfo": {"name": "t", "version": "1"}}},
                  headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
    assert r.status_code == 401, r.text
    assert "mcp-session-id" not in r.headers


# ------------------------------------------------------------------ the official client --


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_official_client_with_each_tenants_key(tenant_host, mode: str) -> None:
    async def as_tenant(key: str) -> tuple[list[str], dict[str, Any]]:
        async with httpx2.AsyncClient(headers={"x-api-key": key}) as http:
            async with Client(streamable_http_client(tenant_host.mcp_url, http_client=http), mode=mode,
                              read_timeout_seconds=20) as c:
                names = [t.name for t in (await c.list_tools()).tools]
                who = dump(await c.call_tool("echo.whoami", {}))
                return names, who

    names_a, who_a = run(lambda: as_tenant(KEY_A))
    names_b, who_b = run(lambda: as_tenant(KEY_B))
    assert "echo.echo" in names_a and "cecho.echo" in names_a, names_a
    assert not any(n.startswith("faults.") for n in names_a), names_a
    assert "echo.echo" in names_b and not any(n.startswith(("cecho.", "faults.")) for n in names_b), names_b
    # Each plugin instance holds its own tenant's configuration only.
    assert who_a["structuredContent"] == {"tenant": "alpha", "greeting": "hola alpha"}, who_a
    assert who_b["structuredContent"] == {"tenant": "beta", "greeting": "hi beta"}, who_b
    assert_no_key_in_logs(tenant_host)


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_tenant_b_cannot_reach_a_plugin_only_a_has(tenant_host, http, mode: str) -> None:
    async def call_cecho(key: str) -> Any:
        async with httpx2.AsyncClient(headers={"x-api-key": key}) as client:
            async with Client(streamable_http_client(tenant_host.mcp_url, http_client=client), mode=mode,
                              read_timeout_seconds=20) as c:
                try:
                    return dump(await c.call_tool("cecho.echo", {"message": "mine"}))
                except Exception as e:  # the SDK raises the JSON-RPC error
                    return e

    mine = run(lambda: call_cecho(KEY_A))
    assert isinstance(mine, dict) and text_of(mine) == "mine", mine
    theirs = run(lambda: call_cecho(KEY_B))
    refused = str(theirs) if isinstance(theirs, Exception) else text_of(theirs)
    assert "Unknown tool" in refused and "cecho.echo" in refused, theirs
    # Raw: the same refusal as a JSON-RPC error.
    r, _ = stateless_call(http, tenant_host.mcp_url, "tools/call", {"name": "cecho.echo", "arguments": {"message": "x"}},
                          headers={"x-api-key": KEY_B})
    assert error_of(r)["code"] == INVALID_PARAMS


def test_session_of_tenant_a_with_tenant_b_key_is_404(tenant_host, http) -> None:
    alpha = Session(http, tenant_host.mcp_url, extra_headers={"x-api-key": KEY_A})
    alpha.initialize()
    assert any(t["name"] == "cecho.echo" for t in alpha.call("tools/list", {})["tools"])

    stolen = Session(http, tenant_host.mcp_url, session_id=alpha.session_id, init_result=alpha.init_result,
                     extra_headers={"x-api-key": KEY_B})
    r, _ = stolen.request("tools/list", {})
    assert r.status_code == 404, r.text
    r, _ = stolen.request("tools/call", {"name": "echo.whoami", "arguments": {}})
    assert r.status_code == 404, r.text
    assert stolen.delete().status_code == 404
    # Without any key the session is not even looked up.
    anonymous = Session(http, tenant_host.mcp_url, session_id=alpha.session_id, init_result=alpha.init_result)
    r, _ = anonymous.request("tools/list", {})
    assert r.status_code == 401, r.text

    # Still alive and still alpha's.
    r, req_id = alpha.request("tools/call", {"name": "echo.whoami", "arguments": {}})
    assert r.status_code == 200
    assert result_of(r, req_id)["structuredContent"]["tenant"] == "alpha"
    assert alpha.delete().status_code in (200, 204)


# ------------------------------------------------------------------------------ rate limit --


def test_rate_limit_answers_429_with_retry_after(make_host, http) -> None:
    h = make_host(plugins=["echo"], config=tenancy_config(rate_limit_per_s=0.2, rate_limit_burst=3))
    statuses = []
    for _ in range(3):
        r, _ = stateless_call(http, h.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "x"}},
                              headers={"x-api-key": KEY_A})
        statuses.append(r.status_code)
    assert statuses == [200, 200, 200], statuses
    r, _ = stateless_call(http, h.mcp_url, "tools/list", headers={"x-api-key": KEY_A})
    assert r.status_code == 429, r.text
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 5, retry
    assert "rate limit" in r.json()["error"]
    # Tenant beta has its own bucket.
    r, _ = stateless_call(http, h.mcp_url, "tools/list", headers={"x-api-key": KEY_B})
    assert r.status_code == 200, r.text
    # The refusal is logged with the tenant id, never the key.
    limited = [rec for rec in h.log_records() if rec.get("message") == "rate limited" or rec.get("msg") == "rate limited"]
    assert limited, h.logs()[-2000:]
    assert "alpha" in json.dumps(limited[0])
    assert_no_key_in_logs(h)


# ------------------------------------------------------------------------------------- logs --


def test_logs_name_tenants_and_never_keys(tenant_host, http) -> None:
    for key in KEYS:
        stateless_call(http, tenant_host.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "hello"}},
                       headers={"x-api-key": key})
    records = tenant_host.log_records()
    assert any("alpha" in json.dumps(rec) for rec in records), records[-5:]
    assert any("request refused" in json.dumps(rec) for rec in records), records[-5:]
    assert_no_key_in_logs(tenant_host)


# ------------------------------------------------------------------------ pass-through keys --

VAULT_KEY_1 = "vault-upstream-key-1-c0ffee"
VAULT_KEY_2 = "vault-upstream-key-2-decade"


def compile_vault_fixture(workroot) -> bytes:
    """Tests/Fixtures/plugins/passthrough.c: plugin `vault`, credential header x-vault-key."""
    from conftest import REPO
    out = workroot / "passthrough-fixture.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", str(REPO / "SDK/Sources/CMCPPlugin/include"), "-o", str(out),
                    str(REPO / "Tests/Fixtures/plugins/passthrough.c")], check=True, timeout=60)
    return out.read_bytes()


def test_pass_through_key_is_the_tenant_and_reaches_only_its_instance(make_host, workroot, http) -> None:
    h = make_host(plugins=["echo"], extra_files={"libvault.so": compile_vault_fixture(workroot)},
                  config={"auth": {"mode": "pass_through"},
                          "tenants": [{"id": "template",
                                       "plugins": {"echo": {"greeting": "pt"}, "vault": {"region": "eu-1"}}}]})

    r, _ = stateless_call(http, h.mcp_url, "tools/list")
    assert r.status_code == 401, r.text
    assert "x-vault-key" in r.json()["error"]
    r, _ = stateless_call(http, f"{h.mcp_url}?x-vault-key={VAULT_KEY_1}", "tools/list")
    assert r.status_code == 401, r.text

    async def as_holder(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        async with httpx2.AsyncClient(headers={"X-Vault-Key": key}) as client:
            async with Client(streamable_http_client(h.mcp_url, http_client=client), mode=MODERN,
                              read_timeout_seconds=20) as c:
                return dump(await c.call_tool("vault.config", {})), dump(await c.call_tool("echo.whoami", {}))

    config_1, who_1 = run(lambda: as_holder(VAULT_KEY_1))
    config_2, who_2 = run(lambda: as_holder(VAULT_KEY_2))
    # Each instance holds its own holder's key (and the template's other settings), nothing else.
    assert config_1["structuredContent"] == {"region": "eu-1", "api_key": VAULT_KEY_1}, config_1
    assert config_2["structuredContent"] == {"region": "eu-1", "api_key": VAULT_KEY_2}, config_2
    tenant_1, tenant_2 = who_1["structuredContent"]["tenant"], who_2["structuredContent"]["tenant"]
    assert tenant_1.startswith("pt-") and tenant_2.startswith("pt-") and tenant_1 != tenant_2
    assert VAULT_KEY_1 not in tenant_1

    # A session started with one key is unknown under another.
    first = Session(http, h.mcp_url, extra_headers={"x-vault-key": VAULT_KEY_1})
    first.initialize()
    stolen = Session(http, h.mcp_url, session_id=first.session_id, init_result=first.init_result,
                     extra_headers={"x-vault-key": VAULT_KEY_2})
    r, _ = stolen.request("tools/call", {"name": "vault.config", "arguments": {}})
    assert r.status_code == 404, r.text
    r, req_id = first.request("tools/call", {"name": "vault.config", "arguments": {}})
    assert result_of(r, req_id)["structuredContent"]["api_key"] == VAULT_KEY_1

    logs = h.logs()
    assert tenant_1 in logs, "the tenant id should appear in the logs"
    assert VAULT_KEY_1 not in logs and VAULT_KEY_2 not in logs, logs[-3000:]


# ------------------------------------------------------------------------------------ egress --


def test_egress_outside_the_tenants_allow_list_is_refused(make_host, workroot, http) -> None:
    """Tests/Fixtures/plugins/egress.c (`probe.fetch`) GETs a URL through the host's HTTP service."""
    from conftest import REPO
    out = workroot / "egress-fixture.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", str(REPO / "SDK/Sources/CMCPPlugin/include"), "-o", str(out),
                    str(REPO / "Tests/Fixtures/plugins/egress.c")], check=True, timeout=60)
    config = tenancy_config()
    config["tenants"][0]["plugins"] = {"probe": {}}
    config["tenants"][0]["egress"] = ["127.0.0.1"]
    config["tenants"][1]["plugins"] = {"probe": {}}
    config["tenants"][1]["egress"] = ["*.example.com"]
    h = make_host(plugins=["echo"], extra_files={"libprobe.so": out.read_bytes()}, config=config)

    def fetch(url: str, key: str) -> dict[str, Any]:
        r, body = stateless_call(http, h.mcp_url, "tools/call", {"name": "probe.fetch", "arguments": {"url": url}},
                                 headers={"x-api-key": key})
        return result_of(r, body["id"])

    health = f"http://127.0.0.1:{h.port}/health"
    allowed = fetch(health, KEY_A)
    assert not allowed.get("isError") and text_of(allowed) == "status 200", allowed
    denied = fetch(health, KEY_B)
    assert denied.get("isError") is True, denied
    assert "egress denied: host 127.0.0.1 is not in this tenant's allow-list" in text_of(denied), denied
    # Neither a query string nor userinfo naming an allowed host gets past the check.
    for url in (f"{health}?next=https://api.example.com/", f"http://api.example.com@127.0.0.1:{h.port}/health"):
        refused = fetch(url, KEY_B)
        assert refused.get("isError") is True and "egress denied" in text_of(refused), (url, refused)
    assert_no_key_in_logs(h)
