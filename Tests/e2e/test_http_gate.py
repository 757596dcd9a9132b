"""Everything in front of the protocol: health, paths, body limit, Origin, configuration, logs."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from mcpwire import (
    ACCEPT_BOTH,
    INVALID_PARAMS,
    MODERN,
    Session,
    error_of,
    result_of,
    stateless_body,
    stateless_call,
    stateless_headers,
    text_of,
)

# ---------------------------------------------------------------------------------- health --


def test_health_lists_plugins(host, http) -> None:
    r = http.get(host.url + "/health")
    assert r.status_code == 200, r.text
    assert r.headers.get("content-type", "").startswith("application/json")
    body = r.json()
    assert body["status"] == "ok", body
    plugins = body["plugins"]
    assert isinstance(plugins, list) and len(plugins) == 3, plugins
    for p in plugins:
        assert {"name", "version", "status"} <= set(p), p
        assert p["status"] in ("ok", "loaded", "ready", "active"), p
    names = {p["name"].lower() for p in plugins}
    for ns in ("echo", "cecho", "faults"):
        assert any(n == ns or n.endswith(ns) or ns in n for n in names), (ns, names)
    assert any("cecho" in n for n in names)


def test_health_with_only_echo(make_host, http) -> None:
    h = make_host(plugins=["echo"])
    body = http.get(h.url + "/health").json()
    assert len(body["plugins"]) == 1, body
    s = Session(http, h.mcp_url)
    s.initialize()
    names = [t["name"] for t in s.call("tools/list", {})["tools"]]
    assert names and all(n.startswith("echo.") for n in names), names


# ----------------------------------------------------------------------------------- paths --


@pytest.mark.parametrize("method,path", [("POST", "/"), ("POST", "/mcp/extra"), ("GET", "/nope"),
                                         ("POST", "/MCP"), ("GET", "/mcpx")])
def test_other_paths_are_404(host, http, method, path) -> None:
    body = json.dumps(stateless_body("tools/list", {}))
    r = http.request(method, host.url + path, content=body if method == "POST" else None,
                     headers=stateless_headers("tools/list"))
    assert r.status_code == 404, (method, path, r.status_code, r.text)


def test_query_string_does_not_change_the_route(host, http) -> None:
    r, body = stateless_call(http, host.mcp_url + "?x=1", "tools/list", {})
    assert r.status_code == 200, (r.status_code, r.text)


def test_custom_server_path(make_host, http) -> None:
    h = make_host(plugins=["echo"], config={"server": {"path": "/custom/endpoint"}})
    r, body = stateless_call(http, h.url + "/custom/endpoint", "tools/call",
                             {"name": "echo.echo", "arguments": {"message": "p"}})
    assert text_of(result_of(r, body["id"])) == "p"
    r, _ = stateless_call(http, h.url + "/mcp", "tools/list", {})
    assert r.status_code == 404, (r.status_code, r.text)


# ------------------------------------------------------------------------------ body limit --


def _raw_post(port: int, path: str, headers: dict[str, str], body_iter, timeout: float = 10.0) -> int:
    """Send a request over a raw socket, tolerate the server closing early, return the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + \
               "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        s.sendall(head.encode())
        try:
            for chunk in body_iter:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while b"\r\n" not in data:
                more = s.recv(4096)
                if not more:
                    break
                data += more
        except ConnectionResetError:
            pass
    assert data.startswith(b"HTTP/1."), f"no HTTP response: {data[:200]!r}"
    return int(data.split(b" ", 2)[1])


def _padded_call(size: int) -> bytes:
    body = stateless_body("tools/call", {"name": "echo.echo", "arguments": {"message": ""}})
    base = len(json.dumps(body).encode())
    body["params"]["arguments"]["message"] = "x" * max(0, size - base)
    data = json.dumps(body).encode()
    assert len(data) == size, (len(data), size)
    return data


def test_body_at_limit_is_served_and_over_limit_is_413(make_host, http) -> None:
    limit = 4096
    h = make_host(plugins=["echo"], config={"server": {"max_body_bytes": limit}})
    ok = _padded_call(limit)
    r = http.post(h.mcp_url, content=ok, headers=stateless_headers("tools/call", "echo.echo"))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    big = _padded_call(limit + 1)
    status = _raw_post(h.port, "/mcp", {**stateless_headers("tools/call", "echo.echo"),
                                        "Content-Length": str(len(big))}, [big])
    assert status == 413
    # chunked upload without Content-Length
    chunks = [b"%x\r\n%s\r\n" % (1024, b"y" * 1024) for _ in range(8)] + [b"0\r\n\r\n"]
    status = _raw_post(h.port, "/mcp", {**stateless_headers("tools/call", "echo.echo"),
                                        "Transfer-Encoding": "chunked"}, chunks)
    assert status == 413
    # still serving
    r, body = stateless_call(http, h.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "ok"}})
    assert text_of(result_of(r, body["id"])) == "ok"


def test_default_body_limit_is_4_mib(host, http) -> None:
    limit = 4 * 1024 * 1024
    big = _padded_call(limit + 1)
    status = _raw_post(host.port, "/mcp", {**stateless_headers("tools/call", "echo.echo"),
                                           "Content-Length": str(len(big))}, [big])
    assert status == 413
    ok = _padded_call(limit - 10)
    r = http.post(host.mcp_url, content=ok, headers=stateless_headers("tools/call", "echo.echo"))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert result_of(r)["structuredContent"]["length"] == len(json.loads(ok)["params"]["arguments"]["message"])


def test_env_override_of_body_limit(make_host, http) -> None:
    h = make_host(plugins=["echo"], env={"MCPHOST_SERVER_MAX_BODY_BYTES": "2000"})
    big = _padded_call(2001)
    status = _raw_post(h.port, "/mcp", {**stateless_headers("tools/call", "echo.echo"),
                                        "Content-Length": str(len(big))}, [big])
    assert status == 413


# ---------------------------------------------------------------------------------- origin --


@pytest.mark.parametrize("origin", ["http://evil.example", "https://attacker.test:8443", "null",
                                    "http://localhost.evil.example"])
def test_foreign_origin_is_403(host, http, origin) -> None:
    r, _ = stateless_call(http, host.mcp_url, "tools/list", {}, headers={"Origin": origin})
    assert r.status_code == 403, (origin, r.status_code, r.text)
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = http.post(host.mcp_url, json=body, headers={"Accept": ACCEPT_BOTH, "Origin": origin})
    assert r.status_code == 403, (origin, r.status_code, r.text)
    assert "mcp-session-id" not in r.headers


@pytest.mark.parametrize("origin", ["http://localhost", "http://localhost:5173", "http://127.0.0.1:3000",
                                    "http://[::1]:8080"])
def test_loopback_origins_are_allowed(host, http, origin) -> None:
    r, body = stateless_call(http, host.mcp_url, "tools/list", {}, headers={"Origin": origin})
    assert r.status_code == 200, (origin, r.status_code, r.text)


def test_no_origin_is_allowed(host, http) -> None:
    r, body = stateless_call(http, host.mcp_url, "tools/list", {})
    assert r.status_code == 200


def test_configured_allowed_origins(make_host, http) -> None:
    h = make_host(plugins=["echo"], config={"server": {"allowed_origins": ["https://app.example.com"]}})
    r, _ = stateless_call(http, h.mcp_url, "tools/list", {}, headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200, (r.status_code, r.text)
    r, _ = stateless_call(http, h.mcp_url, "tools/list", {}, headers={"Origin": "https://other.example.com"})
    assert r.status_code == 403, (r.status_code, r.text)
    r, _ = stateless_call(http, h.mcp_url, "tools/list", {}, headers={"Origin": "http://localhost:9999"})
    assert r.status_code == 200, (r.status_code, r.text)


# --------------------------------------------------------------------------- plugin loading --


def test_world_writable_plugin_dir_is_refused(make_host, http) -> None:
    """A plugin directory others can write to must not be loaded (exit, or serve without its plugins)."""
    try:
        h = make_host(plugins=["echo"], plugin_dir_mode=0o777)
    except RuntimeError as e:
        assert "plugin" in str(e).lower(), e
        return
    s = Session(http, h.mcp_url)
    s.initialize()
    names = [t["name"] for t in s.call("tools/list", {})["tools"]]
    assert "echo.echo" not in names, "plugins loaded from a world-writable directory"
    assert "writable" in h.logs().lower() or "permission" in h.logs().lower(), h.logs()[-2000:]
    health = http.get(h.url + "/health").json()
    assert health["status"] != "ok", health
    assert any(p.get("status") == "failed" for p in health["plugins"]), health


def test_group_writable_plugin_dir_is_refused(make_host, http) -> None:
    try:
        h = make_host(plugins=["echo"], plugin_dir_mode=0o775)
    except RuntimeError:
        return
    r, body = stateless_call(http, h.mcp_url, "tools/list", {})
    names = [t["name"] for t in result_of(r, body["id"])["tools"]]
    assert "echo.echo" not in names


# -------------------------------------------------------------------------- logs & process --


def test_logs_are_json_lines(host, http) -> None:
    # generate some traffic, including an error
    stateless_call(http, host.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "log me"}})
    http.post(host.mcp_url, content=b"{bad", headers=stateless_headers("tools/list"))
    time.sleep(0.2)
    lines = [ln for ln in host.logs().splitlines() if ln.strip()]
    assert lines, "no log output on stderr"
    bad = []
    for ln in lines:
        try:
            rec = json.loads(ln)
            if not isinstance(rec, dict):
                bad.append(ln)
        except json.JSONDecodeError:
            bad.append(ln)
    assert not bad, f"{len(bad)} non-JSON log lines, e.g. {bad[:3]}"
    assert host.stdout().strip() == "", "serve mode must not write to stdout"


def test_sigterm_shuts_down_gracefully(make_host, http) -> None:
    h = make_host(plugins=["echo"])
    r, body = stateless_call(http, h.mcp_url, "tools/list", {})
    assert r.status_code == 200
    t0 = time.monotonic()
    code = h.stop()
    assert code == 0, (code, h.logs()[-2000:])
    assert time.monotonic() - t0 < 5


def test_keep_alive_connection_reuse(host) -> None:
    with httpx.Client(timeout=10) as c:
        for i in range(50):
            r, b = stateless_call(c, host.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": str(i)}})
            assert text_of(result_of(r, b["id"])) == str(i)
        # all 50 went over one pooled connection (no 'Connection: close' from the server)
        assert r.headers.get("connection", "").lower() != "close"


def test_server_header_version_unaffected_by_protocol_header_case(host, http) -> None:
    """Header names are case-insensitive."""
    body = stateless_body("tools/list", {})
    h = {"content-type": "application/json", "accept": ACCEPT_BOTH, "mcp-protocol-version": MODERN,
         "MCP-METHOD": "tools/list"}
    r = http.post(host.mcp_url, content=json.dumps(body), headers=h)
    assert r.status_code == 200, (r.status_code, r.text)


# ------------------------------------------------------------------------------ configuration --


def test_pagination_with_small_pages(make_host, http) -> None:
    h = make_host(config={"server": {"tools_page_size": 2}})
    s = Session(http, h.mcp_url)
    s.initialize()
    pages, cursor = [], None
    for _ in range(50):
        res = s.call("tools/list", {"cursor": cursor} if cursor else {})
        pages.append([t["name"] for t in res["tools"]])
        cursor = res.get("nextCursor")
        if not cursor:
            break
    assert all(0 < len(p) <= 2 for p in pages), pages
    assert len(pages) >= 4, pages
    flat = [n for p in pages for n in p]
    assert len(flat) == len(set(flat)), flat
    assert {"echo.echo", "cecho.echo", "faults.hang"} <= set(flat)
    # the same walk over 2026-07-28 gives the same order
    flat2, cursor = [], None
    for _ in range(50):
        r, body = stateless_call(http, h.mcp_url, "tools/list", {"cursor": cursor} if cursor else {})
        res = result_of(r, body["id"])
        flat2 += [t["name"] for t in res["tools"]]
        cursor = res.get("nextCursor")
        if not cursor:
            break
    assert flat2 == flat
    # a tampered cursor is refused
    first = s.call("tools/list", {})["nextCursor"]
    tampered = first[:-1] + ("x" if first[-1] != "x" else "y")
    r, rid = s.request("tools/list", {"cursor": tampered})
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert error_of(r, rid)["code"] == INVALID_PARAMS, r.text


@pytest.mark.parametrize("config,key", [
    ({"server": {"max_body_bytes": 10}}, "max_body_bytes"),
    ({"server": {"no_such_key": 1}}, "no_such_key"),
    ({"server": {"port": "eighty"}}, "port"),
])
def test_invalid_config_is_refused_naming_file_and_key(make_host, config, key) -> None:
    with pytest.raises(RuntimeError) as info:
        make_host(plugins=["echo"], config=config)
    message = str(info.value)
    assert key in message, message
    assert ".yaml" in message, message


# ------------------------------------------------------------------------------------- CORS --


def test_cors_preflight_and_headers_for_allowed_origin(host, http) -> None:
    origin = "http://localhost:5173"
    r = http.options(host.mcp_url, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "content-type, mcp-protocol-version"})
    assert r.status_code in (200, 204), (r.status_code, r.text)
    assert r.headers.get("access-control-allow-origin") == origin, r.headers
    assert "post" in r.headers.get("access-control-allow-methods", "").lower()
    allowed = r.headers.get("access-control-allow-headers", "").lower()
    for h in ("content-type", "mcp-protocol-version"):
        assert h in allowed, allowed
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = http.post(host.mcp_url, json=body, headers={"Accept": ACCEPT_BOTH, "Origin": origin})
    assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") == origin
    assert "mcp-session-id" in r.headers.get("access-control-expose-headers", "").lower(), r.headers


def test_cors_preflight_from_foreign_origin_is_refused(host, http) -> None:
    r = http.options(host.mcp_url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 403 or "access-control-allow-origin" not in r.headers, (r.status_code, r.headers)


def test_idle_and_stalled_connections_are_closed(make_host) -> None:
    h = make_host(plugins=["echo"], config={"server": {"connection_idle_timeout_s": 1}})
    with socket.create_connection(("127.0.0.1", h.port), timeout=10) as s:
        t0 = time.monotonic()
        assert s.recv(1) == b""          # the server closes the idle connection
        assert 1.0 <= time.monotonic() - t0 < 5
    with socket.create_connection(("127.0.0.1", h.port), timeout=10) as s:
        s.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        assert data.startswith(b"HTTP/1.1 408 "), data[:200]
