"""Raw Streamable HTTP conformance for the session revisions 2025-11-25, 2025-06-18 and 2025-03-26."""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
import pytest

from mcpwire import (
    ACCEPT_BOTH,
    ACCEPT_JSON,
    ACCEPT_SSE,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LEGACY,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SESSION_ID_RE,
    Session,
    answer,
    error_of,
    is_json,
    is_sse,
    messages,
    next_id,
    notifications,
    parse_sse,
    parse_sse_lines,
    result_of,
    text_of,
)

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@pytest.fixture
def session(host, http) -> Session:
    s = Session(http, host.mcp_url, "2025-11-25")
    s.initialize()
    return s


# ------------------------------------------------------------------------------ lifecycle --


@pytest.mark.parametrize("version", LEGACY)
def test_initialize_gives_session_id(host, http, version: str) -> None:
    s = Session(http, host.mcp_url, version)
    init = s.initialize()
    assert init["protocolVersion"] == version
    assert init["serverInfo"]["name"] and init["serverInfo"]["version"]
    assert "tools" in init["capabilities"]
    assert SESSION_ID_RE.match(s.session_id), repr(s.session_id)
    assert len(s.session_id) >= 16, f"session id looks too short to be random: {s.session_id!r}"
    # the session works
    assert s.call("ping") == {}


def test_session_ids_are_unique(host, http) -> None:
    ids = set()
    for _ in range(5):
        s = Session(http, host.mcp_url)
        s.initialize(send_initialized=False)
        ids.add(s.session_id)
    assert len(ids) == 5


def test_initialize_with_unknown_version_negotiates_a_supported_one(host, http) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = http.post(host.mcp_url, json=body, headers={"Accept": ACCEPT_BOTH})
    assert r.status_code == 200, r.text
    assert result_of(r, 1)["protocolVersion"] in LEGACY


def test_initialize_over_sse_only(host, http) -> None:
    s = Session(http, host.mcp_url)
    s.initialize(accept=ACCEPT_SSE)
    assert is_sse(s.init_response), s.init_response.headers
    assert SESSION_ID_RE.match(s.session_id)


def test_request_without_session_id_is_400(session) -> None:
    r, _ = session.request("tools/list", {}, Mcp_Session_Id=None)
    assert r.status_code == 400, (r.status_code, r.text)


def test_unknown_session_id_is_404(session) -> None:
    r, _ = session.request("tools/list", {}, Mcp_Session_Id="no-such-session-0123456789abcdef")
    assert r.status_code == 404, (r.status_code, r.text)


def test_delete_ends_session(host, http) -> None:
    s = Session(http, host.mcp_url)
    s.initialize()
    assert s.call("ping") == {}
    r = s.delete()
    assert r.status_code in (200, 202, 204), (r.status_code, r.text)
    r, _ = s.request("ping")
    assert r.status_code == 404, (r.status_code, r.text)
    r = s.delete()
    assert r.status_code == 404, (r.status_code, r.text)
    # the GET stream of an ended session is gone too
    r = http.get(host.mcp_url, headers=s.headers(ACCEPT_SSE))
    assert r.status_code == 404, (r.status_code, r.text)


def test_delete_without_session_id_is_400(host, http) -> None:
    r = http.delete(host.mcp_url, headers={"MCP-Protocol-Version": "2025-11-25"})
    assert r.status_code in (400, 405), (r.status_code, r.text)


def test_unsupported_protocol_version_header_is_400(session) -> None:
    r, _ = session.request("ping", MCP_Protocol_Version="1999-01-01")
    assert r.status_code == 400, (r.status_code, r.text)


def test_absent_protocol_version_header_assumes_2025_03_26(host, http) -> None:
    s = Session(http, host.mcp_url, "2025-03-26", send_version_header=False)
    s.initialize()
    assert s.call("ping") == {}
    names = [t["name"] for t in s.call("tools/list", {})["tools"]]
    assert "echo.echo" in names


def test_ping(session) -> None:
    assert session.call("ping") == {}


# --------------------------------------------------------------------------- message kinds --


def test_notification_is_202_without_body(session) -> None:
    r = session.notify("notifications/initialized")
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)
    r = session.notify("notifications/cancelled", {"requestId": 12345, "reason": "test"})
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)


def test_response_message_is_202_without_body(session) -> None:
    r = session.post({"jsonrpc": "2.0", "id": "srv-1", "result": {}})
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)
    r = session.post({"jsonrpc": "2.0", "id": "srv-2", "error": {"code": -1, "message": "no"}})
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_batch_rejected_for_2025_06_18_and_later(host, http, version: str) -> None:
    s = Session(http, host.mcp_url, version)
    s.initialize()
    batch = [{"jsonrpc": "2.0", "id": next_id(), "method": "ping"},
             {"jsonrpc": "2.0", "id": next_id(), "method": "tools/list", "params": {}}]
    r = s.post(batch)
    assert r.status_code == 400, (r.status_code, r.text)
    if r.content and is_json(r):
        err = error_of(r)
        assert err["code"] == INVALID_REQUEST, err


def test_batch_allowed_for_2025_03_26(host, http) -> None:
    s = Session(http, host.mcp_url, "2025-03-26")
    s.initialize()
    a, b = next_id(), next_id()
    batch = [{"jsonrpc": "2.0", "id": a, "method": "ping"},
             {"jsonrpc": "2.0", "id": b, "method": "tools/call",
              "params": {"name": "echo.echo", "arguments": {"message": "in a batch"}}},
             {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    r = s.post(batch)
    assert r.status_code == 200, (r.status_code, r.text)
    assert result_of(r, a) == {}
    assert text_of(result_of(r, b)) == "in a batch"


def test_batch_of_only_notifications_2025_03_26_is_202(host, http) -> None:
    s = Session(http, host.mcp_url, "2025-03-26")
    s.initialize(send_initialized=False)
    r = s.post([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)


# ---------------------------------------------------------------------- content negotiation --


def test_accept_both_gives_json_or_sse(session) -> None:
    r, rid = session.request("tools/list", {}, accept=ACCEPT_BOTH)
    assert r.status_code == 200
    assert is_json(r) or is_sse(r), r.headers
    assert "tools" in result_of(r, rid)


def test_accept_json_only_gives_json_or_406(session) -> None:
    # Clients must list both types; a server may still answer JSON-only clients (with JSON) or refuse with 406.
    r, rid = session.request("tools/call", {"name": "echo.echo", "arguments": {"message": "j"}}, accept=ACCEPT_JSON)
    assert r.status_code in (200, 406), (r.status_code, r.text)
    if r.status_code == 200:
        assert is_json(r), r.headers
        assert text_of(result_of(r, rid)) == "j"


def test_accept_sse_only_gives_sse_with_event_ids(session) -> None:
    r, rid = session.request("tools/call", {"name": "echo.echo", "arguments": {"message": "over sse"}},
                             accept=ACCEPT_SSE)
    assert r.status_code == 200, (r.status_code, r.text)
    assert is_sse(r), r.headers
    events = parse_sse(r.text)
    assert events, r.text
    for e in events:
        assert e.id, f"SSE event without id: {e!r}"
        if e.data.strip():  # 2025-11-25 allows an empty priming event
            json.loads(e.data)
    msg = answer(r, rid)
    assert text_of(msg["result"]) == "over sse"
    assert msg["result"]["structuredContent"] == {"message": "over sse", "length": 8}


@pytest.mark.parametrize("accept", [None, "text/plain", "application/xml", "text/html"])
def test_missing_or_incompatible_accept_is_406(session, accept) -> None:
    r, _ = session.request("tools/list", {}, Accept=accept)
    assert r.status_code == 406, (accept, r.status_code, r.text)


def test_initialize_with_incompatible_accept_is_406(host, http) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = http.post(host.mcp_url, json=body, headers={"Accept": "text/plain"})
    assert r.status_code == 406, (r.status_code, r.text)


# -------------------------------------------------------------------------- JSON-RPC errors --


def test_invalid_json_is_400_parse_error(session) -> None:
    r = session.post(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"')
    assert r.status_code == 400, (r.status_code, r.text)
    err = error_of(r)
    assert err["code"] == PARSE_ERROR, err


def test_invalid_json_without_session_is_400_parse_error(host, http) -> None:
    r = http.post(host.mcp_url, content=b"{not json", headers={"Content-Type": "application/json",
                                                               "Accept": ACCEPT_BOTH})
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == PARSE_ERROR


@pytest.mark.parametrize("body", [b"42", b'"a string"', b"null", b"true"])
def test_non_object_is_invalid_request(session, body: bytes) -> None:
    r = session.post(body)
    assert r.status_code == 400, (body, r.status_code, r.text)
    assert error_of(r)["code"] == INVALID_REQUEST, r.text


@pytest.mark.parametrize("msg", [
    {"id": 1, "method": "ping"},                            # no jsonrpc
    {"jsonrpc": "1.0", "id": 1, "method": "ping"},          # wrong version
    {"jsonrpc": "2.0", "id": 1, "method": 17},              # method not a string
    {"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"},   # id not string/number
])
def test_malformed_envelope_is_invalid_request(session, msg) -> None:
    r = session.post(msg)
    assert r.status_code in (200, 400), (msg, r.status_code, r.text)
    assert error_of(r)["code"] == INVALID_REQUEST, (msg, r.text)


def test_unknown_method(session) -> None:
    r, rid = session.request("no/such/method", {})
    assert r.status_code in (200, 404), (r.status_code, r.text)
    assert error_of(r, rid)["code"] == METHOD_NOT_FOUND


@pytest.mark.parametrize("params", [
    {"arguments": {"message": "no name"}},
    {"name": 42},
    {"name": "echo.echo", "arguments": "not an object"},
])
def test_tools_call_bad_params(session, params) -> None:
    r, rid = session.request("tools/call", params)
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert error_of(r, rid)["code"] == INVALID_PARAMS, (params, r.text)


def test_unknown_tool_is_invalid_params(session) -> None:
    r, rid = session.request("tools/call", {"name": "echo.nope", "arguments": {}})
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert error_of(r, rid)["code"] == INVALID_PARAMS, r.text
    r, rid = session.request("tools/call", {"name": "nosuchplugin.tool", "arguments": {}})
    assert error_of(r, rid)["code"] == INVALID_PARAMS, r.text


def test_bad_cursor_is_invalid_params(session) -> None:
    r, rid = session.request("tools/list", {"cursor": "definitely-not-a-cursor"})
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert error_of(r, rid)["code"] == INVALID_PARAMS, r.text


# ---------------------------------------------------------------------------------- tools --


def list_all_tools(s: Session) -> list[dict]:
    tools, cursor = [], None
    for _ in range(100):
        res = s.call("tools/list", {"cursor": cursor} if cursor else {})
        tools += res["tools"]
        cursor = res.get("nextCursor")
        if not cursor:
            return tools
    raise AssertionError("pagination did not end")


def test_tools_list_names_and_schemas(session) -> None:
    tools = list_all_tools(session)
    names = [t["name"] for t in tools]
    for expected in ("echo.echo", "echo.add", "echo.count", "cecho.echo", "faults.tool_error",
                     "faults.internal_error", "faults.hang", "faults.garbage"):
        assert expected in names, (expected, names)
    assert len(set(names)) == len(names), names
    for t in tools:
        assert TOOL_NAME_RE.match(t["name"]) and "." in t["name"], t["name"]
        assert t["inputSchema"]["type"] == "object", t
        assert isinstance(t.get("description", ""), str)
    echo = next(t for t in tools if t["name"] == "echo.echo")
    assert "message" in echo["inputSchema"].get("required", []), echo


def test_tools_list_is_deterministic(host, http, session) -> None:
    first = [t["name"] for t in list_all_tools(session)]
    second = [t["name"] for t in list_all_tools(session)]
    other = Session(http, host.mcp_url, "2025-03-26")
    other.initialize()
    third = [t["name"] for t in list_all_tools(other)]
    assert first == second == third


def test_echo_tools(session) -> None:
    r = session.call("tools/call", {"name": "echo.echo", "arguments": {"message": "hi ✓"}})
    assert not r.get("isError")
    assert r["content"][0]["type"] == "text" and text_of(r) == "hi ✓"
    assert r["structuredContent"] == {"message": "hi ✓", "length": 4}
    r = session.call("tools/call", {"name": "echo.add", "arguments": {"a": 1.5, "b": -3}})
    assert r["structuredContent"] == {"sum": -1.5}
    r = session.call("tools/call", {"name": "cecho.echo", "arguments": {"message": "plain C"}})
    assert text_of(r) == "plain C"
    r = session.call("tools/call", {"name": "echo.count", "arguments": {"to": 3, "delay_ms": 0}})
    assert r["structuredContent"] == {"counted": 3}


@pytest.mark.parametrize("name,args,field", [
    ("echo.add", {"a": "one", "b": 2}, "a"),
    ("echo.add", {"a": 1}, "b"),
    ("echo.echo", {}, "message"),
    ("echo.echo", {"message": 5}, "message"),
    ("echo.count", {"to": 0, "delay_ms": 0}, "to"),
    ("echo.count", {"to": 101, "delay_ms": 0}, "to"),
    ("echo.count", {"to": 2, "delay_ms": 5000}, "delay_ms"),
    ("echo.count", {"to": 2.5, "delay_ms": 0}, "to"),
])
def test_schema_violations_are_tool_errors(session, name, args, field) -> None:
    r = session.call("tools/call", {"name": name, "arguments": args})
    assert r.get("isError") is True, (name, args, r)
    assert field in text_of(r), (name, args, r)


def test_progress_notifications_on_request_stream(session) -> None:
    token = "prog-1"
    r, rid = session.request("tools/call", {"name": "echo.count", "arguments": {"to": 5, "delay_ms": 10},
                                            "_meta": {"progressToken": token}}, accept=ACCEPT_BOTH)
    assert r.status_code == 200, r.text
    assert is_sse(r), "progress requested but the answer is not an SSE stream"
    progress = notifications(r, "notifications/progress")
    assert [p["params"]["progressToken"] for p in progress] == [token] * 5, progress
    values = [p["params"]["progress"] for p in progress]
    assert values == [1, 2, 3, 4, 5], values
    assert all(p["params"].get("total") == 5 for p in progress)
    msgs = messages(r)
    assert "result" in msgs[-1] and msgs[-1]["id"] == rid, "the result must be the last message"
    assert msgs[-1]["result"]["structuredContent"] == {"counted": 5}


def test_no_progress_without_token(session) -> None:
    r, rid = session.request("tools/call", {"name": "echo.count", "arguments": {"to": 3, "delay_ms": 0}},
                             accept=ACCEPT_SSE)
    assert notifications(r, "notifications/progress") == []
    assert result_of(r, rid)["structuredContent"] == {"counted": 3}


def test_event_ids_unique_within_session(session) -> None:
    ids: list[str] = []
    for _ in range(3):
        r, _ = session.request("tools/call", {"name": "echo.count", "arguments": {"to": 3, "delay_ms": 0},
                                              "_meta": {"progressToken": 7}}, accept=ACCEPT_SSE)
        ids += [e.id for e in parse_sse(r.text) if e.data.strip()]
    assert all(ids) and len(ids) == len(set(ids)), ids


# -------------------------------------------------------------------------- GET stream --


def test_get_opens_sse_stream(host, session) -> None:
    with httpx.Client(timeout=httpx.Timeout(5.0)) as c:
        with c.stream("GET", host.mcp_url, headers=session.headers(ACCEPT_SSE)) as r:
            assert r.status_code == 200, r.read()
            assert is_sse(r), r.headers
    # the session is still usable after the client drops the stream
    assert session.call("ping") == {}


def test_get_without_session_is_400(host, http) -> None:
    r = http.get(host.mcp_url, headers={"Accept": ACCEPT_SSE, "MCP-Protocol-Version": "2025-11-25"})
    assert r.status_code in (400, 405), (r.status_code, r.text)


def test_get_without_sse_accept_is_rejected(session, http) -> None:
    r = http.get(session.url, headers=session.headers(ACCEPT_JSON))
    assert r.status_code in (405, 406), (r.status_code, r.text)


def test_other_methods_are_405(session, http) -> None:
    for method in ("PUT", "PATCH"):
        r = http.request(method, session.url, headers=session.headers(), content=b"{}")
        assert r.status_code == 405, (method, r.status_code, r.text)


def test_resume_with_last_event_id(host, session) -> None:
    """Disconnect after the first event of a streamed call, then replay the rest with Last-Event-ID."""
    rid = next_id()
    body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
            "params": {"name": "echo.count", "arguments": {"to": 5, "delay_ms": 150},
                       "_meta": {"progressToken": "resume"}}}
    first = None
    with httpx.Client(timeout=httpx.Timeout(10.0)) as c:
        with c.stream("POST", host.mcp_url, content=json.dumps(body), headers=session.headers(ACCEPT_SSE)) as r:
            assert r.status_code == 200 and is_sse(r)
            for ev in parse_sse_lines(r.iter_lines()):
                if ev.data.strip():  # skip a priming event (id, empty data)
                    first = ev
                    break
    assert first is not None and first.id, first
    assert first.json()["params"]["progress"] == 1
    time.sleep(1.2)  # let the tool finish while nobody listens

    replay: list = []
    with httpx.Client(timeout=httpx.Timeout(10.0)) as c:
        with c.stream("GET", host.mcp_url, headers=session.headers(ACCEPT_SSE, Last_Event_ID=first.id)) as r:
            assert r.status_code == 200, r.read()
            assert is_sse(r)
            deadline = time.monotonic() + 8
            for ev in parse_sse_lines(r.iter_lines()):
                if not ev.data.strip():
                    continue
                replay.append(ev)
                msg = ev.json()
                if msg.get("id") == rid or time.monotonic() > deadline:
                    break
    msgs = [e.json() for e in replay]
    progress = [m["params"]["progress"] for m in msgs if m.get("method") == "notifications/progress"]
    assert progress == [2, 3, 4, 5], msgs
    assert msgs[-1].get("id") == rid and msgs[-1]["result"]["structuredContent"] == {"counted": 5}, msgs
    assert first.id not in [e.id for e in replay]


def test_concurrent_requests_in_one_session(session) -> None:
    errors: list = []

    def worker(i: int) -> None:
        try:
            with httpx.Client(timeout=20) as c:
                s = Session(c, session.url, session.version, session.session_id, init_result=session.init_result)
                r = s.call("tools/call", {"name": "echo.echo", "arguments": {"message": f"m{i}"}})
                assert text_of(r) == f"m{i}"
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
