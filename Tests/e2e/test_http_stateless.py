"""Raw Streamable HTTP conformance for the stateless revision 2026-07-28."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from mcpwire import (
    ACCEPT_BOTH,
    ACCEPT_SSE,
    HEADER_MISMATCH,
    INVALID_PARAMS,
    LEGACY,
    META_PV,
    METHOD_NOT_FOUND,
    MODERN,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
    Session,
    answer,
    error_of,
    is_json,
    is_sse,
    messages,
    modern_meta,
    next_id,
    notifications,
    parse_sse,
    parse_sse_lines,
    result_of,
    stateless_body,
    stateless_call,
    stateless_headers,
    text_of,
)


def call(http, host, method, params=None, **kw):
    return stateless_call(http, host.mcp_url, method, params, **kw)


# ------------------------------------------------------------------------------- discovery --


def test_server_discover(host, http) -> None:
    r, body = call(http, host, "server/discover")
    assert r.status_code == 200, (r.status_code, r.text)
    assert "mcp-session-id" not in r.headers, "a stateless answer must not create a session"
    res = result_of(r, body["id"])
    assert MODERN in res["supportedVersions"], res
    assert set(res["supportedVersions"]) <= {MODERN, *LEGACY}, res
    assert "tools" in res["capabilities"], res
    assert res.get("resultType") == "complete", res
    assert isinstance(res.get("ttlMs"), int) and res["ttlMs"] >= 0, res
    assert res.get("cacheScope") in ("private", "public"), res
    info = (res.get("_meta") or {}).get("io.modelcontextprotocol/serverInfo")
    assert info is None or (info.get("name") and "version" in info), res


def test_discover_without_initialize_or_session(host, http) -> None:
    """Two unrelated requests, no initialize, no session header, both served."""
    for _ in range(2):
        r, body = call(http, host, "tools/list", {})
        assert r.status_code == 200, r.text
        assert result_of(r, body["id"])["tools"]


def test_tools_list(host, http) -> None:
    r, body = call(http, host, "tools/list", {})
    assert r.status_code == 200, r.text
    res = result_of(r, body["id"])
    names = [t["name"] for t in res["tools"]]
    cursor = res.get("nextCursor")
    while cursor:
        r, body = call(http, host, "tools/list", {"cursor": cursor})
        page = result_of(r, body["id"])
        names += [t["name"] for t in page["tools"]]
        cursor = page.get("nextCursor")
    assert {"echo.echo", "echo.add", "echo.count", "cecho.echo"} <= set(names), names
    assert isinstance(res.get("ttlMs"), int) and res["ttlMs"] >= 0, res.keys()
    assert res.get("cacheScope") in ("private", "public"), res.keys()
    assert res.get("resultType") == "complete", res.keys()


def test_tools_list_deterministic_and_same_as_session(host, http) -> None:
    def names_stateless() -> list[str]:
        out, cursor = [], None
        while True:
            r, body = call(http, host, "tools/list", {"cursor": cursor} if cursor else {})
            res = result_of(r, body["id"])
            out += [t["name"] for t in res["tools"]]
            cursor = res.get("nextCursor")
            if not cursor:
                return out

    a, b = names_stateless(), names_stateless()
    assert a == b
    s = Session(http, host.mcp_url)
    s.initialize()
    legacy, cursor = [], None
    while True:
        res = s.call("tools/list", {"cursor": cursor} if cursor else {})
        legacy += [t["name"] for t in res["tools"]]
        cursor = res.get("nextCursor")
        if not cursor:
            break
    assert a == legacy


def test_bad_cursor(host, http) -> None:
    r, body = call(http, host, "tools/list", {"cursor": "%%%garbage%%%"})
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert error_of(r, body["id"])["code"] == INVALID_PARAMS


# ----------------------------------------------------------------------------------- calls --


def test_tools_call_echo(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {"message": "stateless"}})
    assert r.status_code == 200, r.text
    res = result_of(r, body["id"])
    assert not res.get("isError")
    assert res.get("resultType") == "complete", res
    assert text_of(res) == "stateless"
    assert res["structuredContent"] == {"message": "stateless", "length": 9}


def test_tools_call_cecho_and_add(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "cecho.echo", "arguments": {"message": "c"}})
    assert text_of(result_of(r, body["id"])) == "c"
    r, body = call(http, host, "tools/call", {"name": "echo.add", "arguments": {"a": 40, "b": 2}})
    assert result_of(r, body["id"])["structuredContent"] == {"sum": 42}


def test_tools_call_bad_arguments_is_tool_error(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "echo.add", "arguments": {"a": "x", "b": 2}})
    assert r.status_code == 200, r.text
    res = result_of(r, body["id"])
    assert res.get("isError") is True and "a" in text_of(res), res
    r, body = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {}})
    res = result_of(r, body["id"])
    assert res.get("isError") is True and "message" in text_of(res), res


def test_unknown_tool(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "echo.does_not_exist", "arguments": {}})
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert error_of(r, body["id"])["code"] == INVALID_PARAMS


def test_sse_answer_when_accept_is_only_sse(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {"message": "sse"}},
                   accept=ACCEPT_SSE)
    assert r.status_code == 200, r.text
    assert is_sse(r), r.headers
    assert r.headers.get("x-accel-buffering", "").lower() == "no", r.headers
    events = [e for e in parse_sse(r.text) if e.data.strip()]
    assert events
    assert text_of(answer(r, body["id"])["result"]) == "sse"


def test_progress_over_sse(host, http) -> None:
    r, body = call(http, host, "tools/call",
                   {"name": "echo.count", "arguments": {"to": 6, "delay_ms": 5}, "_meta": {"progressToken": "p-6"}})
    assert r.status_code == 200, r.text
    assert is_sse(r), "progress was requested: the answer must be an SSE stream"
    assert r.headers.get("x-accel-buffering", "").lower() == "no", r.headers
    prog = notifications(r, "notifications/progress")
    assert [p["params"]["progress"] for p in prog] == [1, 2, 3, 4, 5, 6], prog
    assert all(p["params"]["progressToken"] == "p-6" and p["params"].get("total") == 6 for p in prog)
    last = messages(r)[-1]
    assert last.get("id") == body["id"] and last["result"]["structuredContent"] == {"counted": 6}


def test_progress_arrives_incrementally(host) -> None:
    """Progress events are flushed as they happen, not buffered until the end."""
    body = stateless_body("tools/call", {"name": "echo.count", "arguments": {"to": 4, "delay_ms": 300},
                                         "_meta": {"progressToken": 1}})
    stamps: list[float] = []
    t0 = time.monotonic()
    with httpx.Client(timeout=15) as c:
        with c.stream("POST", host.mcp_url, content=json.dumps(body),
                      headers=stateless_headers("tools/call", "echo.count")) as r:
            assert r.status_code == 200 and is_sse(r)
            for ev in parse_sse_lines(r.iter_lines()):
                if ev.data.strip():
                    stamps.append(time.monotonic() - t0)
    assert len(stamps) == 5, stamps  # 4 progress + result
    assert stamps[0] < stamps[-1] - 0.6, f"events were not streamed incrementally: {stamps}"


def test_closing_the_stream_cancels_and_host_keeps_serving(host, http) -> None:
    body = stateless_body("tools/call", {"name": "echo.count", "arguments": {"to": 100, "delay_ms": 100},
                                         "_meta": {"progressToken": "c"}})
    with httpx.Client(timeout=10) as c:
        with c.stream("POST", host.mcp_url, content=json.dumps(body),
                      headers=stateless_headers("tools/call", "echo.count")) as r:
            assert r.status_code == 200 and is_sse(r)
            for ev in parse_sse_lines(r.iter_lines()):
                if ev.data.strip():
                    break
    t0 = time.monotonic()
    r, b = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {"message": "after cancel"}})
    assert text_of(result_of(r, b["id"])) == "after cancel"
    assert time.monotonic() - t0 < 2


def test_concurrent_stateless_calls(host) -> None:
    errors: list = []

    def worker(i: int) -> None:
        try:
            with httpx.Client(timeout=20) as c:
                for j in range(5):
                    r, b = stateless_call(c, host.mcp_url, "tools/call",
                                          {"name": "echo.echo", "arguments": {"message": f"{i}-{j}"}})
                    assert text_of(result_of(r, b["id"])) == f"{i}-{j}"
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


# -------------------------------------------------------------------------- header checks --


@pytest.mark.parametrize("case,method,params,headers", [
    ("method header differs", "tools/list", {}, {"Mcp-Method": "tools/call"}),
    ("method header missing", "tools/list", {}, {"Mcp-Method": None}),
    ("name header differs", "tools/call", {"name": "echo.echo", "arguments": {"message": "x"}},
     {"Mcp-Name": "cecho.echo"}),
    ("name header missing", "tools/call", {"name": "echo.echo", "arguments": {"message": "x"}}, {"Mcp-Name": None}),
    ("method header on discover differs", "server/discover", {}, {"Mcp-Method": "tools/list"}),
])
def test_header_body_mismatch_is_400_32020(host, http, case, method, params, headers) -> None:
    r, body = call(http, host, method, params, headers=headers)
    assert r.status_code == 400, (case, r.status_code, r.text)
    err = error_of(r)
    assert err["code"] == HEADER_MISMATCH, (case, err)


def test_meta_version_differs_from_modern_header(host, http) -> None:
    r, _ = call(http, host, "tools/list", {}, meta_extra={META_PV: "2025-06-18"})
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == HEADER_MISMATCH


def test_legacy_header_with_modern_meta_is_400(host, http) -> None:
    r, _ = call(http, host, "tools/list", {}, headers={"MCP-Protocol-Version": "2025-11-25"})
    # Routed as 2025-11-25 it lacks a session (400); routed by its _meta it is a mismatch (400 -32020).
    assert r.status_code == 400, (r.status_code, r.text)


def test_version_header_missing_with_modern_meta(host, http) -> None:
    r, _ = call(http, host, "tools/list", {}, headers={"MCP-Protocol-Version": None})
    # Without the header the request looks like a 2025-03-26 one without a session (400), or the host
    # sees the _meta envelope and reports the mismatch (400 -32020). Either way: 400.
    assert r.status_code == 400, (r.status_code, r.text)


def test_unsupported_version_is_400_32022(host, http) -> None:
    r, _ = call(http, host, "tools/list", {}, version="2099-01-01")
    assert r.status_code == 400, (r.status_code, r.text)
    err = error_of(r)
    assert err["code"] == UNSUPPORTED_PROTOCOL_VERSION, err
    supported = (err.get("data") or {}).get("supported")
    assert isinstance(supported, list) and MODERN in supported, err


def test_discover_with_unsupported_version_lists_supported(host, http) -> None:
    r, _ = call(http, host, "server/discover", {}, version="2027-01-01")
    assert r.status_code == 400, (r.status_code, r.text)
    err = error_of(r)
    assert err["code"] == UNSUPPORTED_PROTOCOL_VERSION and MODERN in err["data"]["supported"], err


def test_missing_meta_is_invalid_params(host, http) -> None:
    body = {"jsonrpc": "2.0", "id": next_id(), "method": "tools/list", "params": {}}
    r = http.post(host.mcp_url, json=body, headers=stateless_headers("tools/list"))
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == INVALID_PARAMS


def test_missing_client_capabilities_is_invalid_params(host, http) -> None:
    meta = modern_meta()
    del meta["io.modelcontextprotocol/clientCapabilities"]
    body = {"jsonrpc": "2.0", "id": next_id(), "method": "tools/list", "params": {"_meta": meta}}
    r = http.post(host.mcp_url, json=body, headers=stateless_headers("tools/list"))
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == INVALID_PARAMS


def test_unknown_method_is_404_32601(host, http) -> None:
    r, body = call(http, host, "no/such/method", {})
    assert r.status_code == 404, (r.status_code, r.text)
    assert error_of(r)["code"] == METHOD_NOT_FOUND


def test_invalid_json_is_400_32700(host, http) -> None:
    r = http.post(host.mcp_url, content=b'{"jsonrpc":"2.0",', headers=stateless_headers("tools/list"))
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == PARSE_ERROR


@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_get_and_delete_are_405(host, http, verb) -> None:
    h = {"MCP-Protocol-Version": MODERN, "Accept": ACCEPT_BOTH}
    r = http.request(verb, host.mcp_url, headers=h)
    assert r.status_code == 405, (verb, r.status_code, r.text)


def test_accept_json_only_gets_json_or_406(host, http) -> None:
    # The spec makes clients list both types; a server may answer JSON-only clients or refuse them with 406.
    r, body = call(http, host, "tools/list", {}, accept="application/json")
    assert r.status_code in (200, 406), (r.status_code, r.text)
    if r.status_code == 200:
        assert is_json(r), r.headers


def test_missing_accept_is_406(host, http) -> None:
    r, _ = call(http, host, "tools/list", {}, headers={"Accept": None})
    assert r.status_code == 406, (r.status_code, r.text)


def test_ping_is_gone_in_2026(host, http) -> None:
    r, body = call(http, host, "ping", {})
    assert r.status_code == 404, (r.status_code, r.text)
    assert error_of(r)["code"] == METHOD_NOT_FOUND


def test_batch_is_rejected(host, http) -> None:
    batch = [stateless_body("tools/list", {}), stateless_body("tools/list", {})]
    r = http.post(host.mcp_url, content=json.dumps(batch), headers=stateless_headers("tools/list"))
    assert r.status_code == 400, (r.status_code, r.text)


def test_session_id_header_is_ignored(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {"message": "s"}},
                   headers={"Mcp-Session-Id": "whatever-0123456789"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert "mcp-session-id" not in r.headers
    assert text_of(result_of(r, body["id"])) == "s"


def test_base64_encoded_name_header(host, http) -> None:
    """Header values may use the =?base64?...?= sentinel; the server decodes before comparing."""
    import base64
    enc = "=?base64?" + base64.b64encode(b"echo.echo").decode() + "?="
    r, body = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {"message": "b64"}},
                   headers={"Mcp-Name": enc})
    assert r.status_code == 200, (r.status_code, r.text)
    assert text_of(result_of(r, body["id"])) == "b64"


def test_incompatible_accept_is_406(host, http) -> None:
    r, _ = call(http, host, "tools/list", {}, accept="text/plain")
    assert r.status_code == 406, (r.status_code, r.text)


def test_log_level_meta_is_accepted(host, http) -> None:
    r, body = call(http, host, "tools/call", {"name": "echo.echo", "arguments": {"message": "lvl"}},
                   meta_extra={"io.modelcontextprotocol/logLevel": "debug"})
    assert r.status_code == 200, r.text
    assert text_of(result_of(r, body["id"])) == "lvl"
