"""Host behaviour beyond single requests: plugin hot reload and pinning, session expiry, logging,
cancellation, late plugin completions, JSON-RPC id handling, revision-specific result shapes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time

import httpx
import pytest

from conftest import BUILD_DIR, PLUGIN_FILES
from mcpwire import (
    ACCEPT_SSE,
    INVALID_PARAMS,
    INVALID_REQUEST,
    Session,
    error_of,
    is_sse,
    messages,
    modern_meta,
    notifications,
    parse_sse_lines,
    result_of,
    stateless_body,
    stateless_call,
    stateless_headers,
    text_of,
)


def stateless_names(http, h) -> list[str]:
    r, body = stateless_call(http, h.mcp_url, "tools/list", {})
    assert r.status_code == 200, (r.status_code, r.text)
    return [t["name"] for t in result_of(r, body["id"])["tools"]]


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ------------------------------------------------------------------------------ plugin loading --


def test_hot_reload_add_replace_remove(make_host, http) -> None:
    h = make_host(plugins=["echo"], config={"plugins": {"reload_interval_ms": 200}})
    assert {n.split(".")[0] for n in stateless_names(http, h)} == {"echo"}
    old = Session(http, h.mcp_url)
    old.initialize()

    # a new file appears
    shutil.copyfile(BUILD_DIR / PLUGIN_FILES["cecho"], h.plugin_dir / PLUGIN_FILES["cecho"])
    assert wait_for(lambda: "cecho.echo" in stateless_names(http, h)), "new plugin not picked up"
    new = Session(http, h.mcp_url)
    new.initialize()
    assert "cecho.echo" in [t["name"] for t in new.call("tools/list", {})["tools"]]
    r = new.call("tools/call", {"name": "cecho.echo", "arguments": {"message": "hot"}})
    assert text_of(r) == "hot"

    # a loaded file is overwritten in place with a different plugin: no crash, the new image serves
    with open(h.plugin_dir / PLUGIN_FILES["echo"], "wb") as f:
        f.write((BUILD_DIR / PLUGIN_FILES["faults"]).read_bytes())
    assert wait_for(lambda: "faults.tool_error" in stateless_names(http, h)), "replaced plugin not picked up"
    assert "echo.echo" not in stateless_names(http, h)
    # the session opened before the change still reaches the image it started with
    r = old.call("tools/call", {"name": "echo.echo", "arguments": {"message": "old image"}})
    assert text_of(r) == "old image"

    # a file is removed
    os.remove(h.plugin_dir / PLUGIN_FILES["cecho"])
    assert wait_for(lambda: "cecho.echo" not in stateless_names(http, h)), "removed plugin still listed"
    assert h.alive()


def test_broken_file_is_refused_and_the_rest_served(make_host, http) -> None:
    h = make_host(plugins=["echo", "cecho"], config={"plugins": {"reload_interval_ms": 200}})
    (h.plugin_dir / "libBroken.so").write_bytes(b"\x7fELF but not really")
    os.chmod(h.plugin_dir / "libBroken.so", 0o755)

    def refused():
        body = http.get(h.url + "/health").json()
        return [p for p in body["plugins"] if p.get("status") == "failed"] and body

    body = wait_for(refused)
    assert body, "broken .so not reported"
    assert body["status"] != "ok"
    failed = [p for p in body["plugins"] if p.get("status") == "failed"]
    assert any("libBroken.so" in json.dumps(p) and p.get("error") for p in failed), body
    assert {"echo.echo", "cecho.echo"} <= set(stateless_names(http, h))


def test_broken_file_at_start(make_host, http) -> None:
    h = make_host(plugins=["echo"], extra_files={"libZZZ.so": b"garbage"})
    health = http.get(h.url + "/health").json()
    assert health["status"] != "ok"
    assert any(p.get("status") == "failed" and "libZZZ.so" in p.get("file", "") for p in health["plugins"]), health
    assert "echo.echo" in stateless_names(http, h)


def test_sha256_allow_list_pins_builds(make_host, http) -> None:
    echo_hash = hashlib.sha256((BUILD_DIR / PLUGIN_FILES["echo"]).read_bytes()).hexdigest()
    h = make_host(plugins=["echo", "cecho"], config={"plugins": {"allow_sha256": [echo_hash]}})
    names = stateless_names(http, h)
    assert "echo.echo" in names and "cecho.echo" not in names, names
    health = http.get(h.url + "/health").json()
    assert any(p.get("status") == "failed" and "CEcho" in p.get("file", "") for p in health["plugins"]), health


# ----------------------------------------------------------------------------------- sessions --


def test_idle_session_expires(make_host, http) -> None:
    h = make_host(plugins=["echo"], config={"server": {"session_idle_timeout_s": 1}})
    s = Session(http, h.mcp_url)
    s.initialize()
    assert s.call("ping") == {}
    time.sleep(2.5)  # idle (every request counts as activity, so do not poll)
    r, _ = s.request("ping")
    assert r.status_code == 404, f"session idle for 2.5 s with session_idle_timeout_s=1 still served: {r.status_code}"


def test_active_session_does_not_expire(make_host, http) -> None:
    h = make_host(plugins=["echo"], config={"server": {"session_idle_timeout_s": 2}})
    s = Session(http, h.mcp_url)
    s.initialize()
    for _ in range(8):
        time.sleep(0.5)
        assert s.call("ping") == {}


# ------------------------------------------------------------------------------------ logging --


def test_2026_log_messages_only_with_opt_in(host, http) -> None:
    r, body = stateless_call(http, host.mcp_url, "tools/call", {"name": "faults.tool_error", "arguments": {}})
    assert notifications(r, "notifications/message") == [], r.text
    r, body = stateless_call(http, host.mcp_url, "tools/call", {"name": "faults.tool_error", "arguments": {}},
                             meta_extra={"io.modelcontextprotocol/logLevel": "debug"})
    assert is_sse(r), r.headers
    logs = notifications(r, "notifications/message")
    assert logs and logs[0]["params"]["level"] in ("warning", "error"), r.text
    assert result_of(r, body["id"])["isError"] is True
    # above the threshold only
    r, body = stateless_call(http, host.mcp_url, "tools/call", {"name": "faults.tool_error", "arguments": {}},
                             meta_extra={"io.modelcontextprotocol/logLevel": "critical"})
    assert notifications(r, "notifications/message") == [], r.text


def test_2026_bad_log_level_is_invalid_params(host, http) -> None:
    r, _ = stateless_call(http, host.mcp_url, "tools/list", {},
                          meta_extra={"io.modelcontextprotocol/logLevel": "loud"})
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == INVALID_PARAMS


def test_2025_set_level_and_log_messages(host, http) -> None:
    s = Session(http, host.mcp_url)
    s.initialize()
    r, rid = s.request("tools/call", {"name": "faults.tool_error", "arguments": {}}, accept=ACCEPT_SSE)
    assert notifications(r, "notifications/message") == []
    assert s.call("logging/setLevel", {"level": "info"}) == {}
    r, rid = s.request("tools/call", {"name": "faults.tool_error", "arguments": {}}, accept=ACCEPT_SSE)
    logs = notifications(r, "notifications/message")
    assert logs and logs[0]["params"]["level"] == "warning", r.text
    r, rid = s.request("logging/setLevel", {"level": "chatty"})
    assert error_of(r, rid)["code"] == INVALID_PARAMS


# ------------------------------------------------------------------------------- cancellation --


def test_2025_http_cancelled_notification_stops_the_call(host, http) -> None:
    s = Session(http, host.mcp_url)
    s.initialize()
    rid = 900001
    body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
            "params": {"name": "echo.count", "arguments": {"to": 40, "delay_ms": 100}, "_meta": {"progressToken": "k"}}}
    events = []
    t0 = time.monotonic()
    with httpx.Client(timeout=15) as c:
        with c.stream("POST", host.mcp_url, content=json.dumps(body), headers=s.headers(ACCEPT_SSE)) as r:
            assert r.status_code == 200 and is_sse(r)
            for ev in parse_sse_lines(r.iter_lines()):
                if not ev.data.strip():
                    continue
                events.append(ev.json())
                if len(events) == 2:
                    n = s.notify("notifications/cancelled", {"requestId": rid, "reason": "test"})
                    assert n.status_code == 202
    elapsed = time.monotonic() - t0
    assert elapsed < 2.5, f"the cancelled call kept running ({elapsed:.1f}s; it takes 4s)"
    progress = [e for e in events if e.get("method") == "notifications/progress"]
    assert len(progress) < 10, progress
    answers = [e for e in events if e.get("id") == rid]
    # SHOULD NOT answer a cancelled request (2025-11-25 cancellation, "Behavior Requirements")
    assert answers == [], f"the host answered the cancelled request: {answers}"


def test_late_plugin_completion_after_deadline_is_dropped(fault_host, http) -> None:
    """faults.slow completes from its own thread after the host already answered at the deadline."""
    t0 = time.monotonic()
    r, body = stateless_call(http, fault_host.mcp_url, "tools/call",
                             {"name": "faults.slow", "arguments": {"ms": 2500}})
    elapsed = time.monotonic() - t0
    assert elapsed < 1.5 + 2
    msg = [m for m in messages(r) if m.get("id") == body["id"]][0]
    assert "error" in msg or msg["result"].get("isError") is True, msg
    time.sleep(1.5)  # the plugin completes now; nobody waits for it
    assert fault_host.alive()
    r, body = stateless_call(http, fault_host.mcp_url, "tools/call", {"name": "faults.slow", "arguments": {"ms": 100}})
    res = result_of(r, body["id"])
    assert not res.get("isError") and "100" in text_of(res), res


@pytest.mark.parametrize("tool", ["faults.bad_structured", "faults.wrong_shape"])
def test_malformed_plugin_results_are_internal_errors(fault_host, http, tool) -> None:
    r, body = stateless_call(http, fault_host.mcp_url, "tools/call", {"name": tool, "arguments": {}})
    msg = [m for m in messages(r) if m.get("id") == body["id"]]
    assert len(msg) == 1, r.text
    assert ("error" in msg[0] and msg[0]["error"]["code"] == -32603) or msg[0]["result"].get("isError") is True, msg
    r, body = stateless_call(http, fault_host.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "k"}})
    assert text_of(result_of(r, body["id"])) == "k"


# ------------------------------------------------------------------------------ JSON-RPC ids --


@pytest.mark.parametrize("rid", ["abc", "", 0, -7, 2**53, "😀 id"])
def test_request_ids_are_echoed_exactly(host, http, rid) -> None:
    r, body = stateless_call(http, host.mcp_url, "tools/list", {}, req_id=rid)
    assert r.status_code == 200, (rid, r.status_code, r.text[:300])
    msg = messages(r)[-1]
    assert msg["id"] == rid and type(msg["id"]) is type(rid), msg.get("id")


def test_null_id_is_invalid_request(host, http) -> None:
    body = {"jsonrpc": "2.0", "id": None, "method": "tools/list", "params": {"_meta": modern_meta()}}
    r = http.post(host.mcp_url, json=body, headers=stateless_headers("tools/list"))
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_of(r)["code"] == INVALID_REQUEST


def test_progress_token_type_is_preserved(host, http) -> None:
    for token in (7, "seven"):
        r, body = stateless_call(http, host.mcp_url, "tools/call",
                                 {"name": "echo.count", "arguments": {"to": 2, "delay_ms": 0},
                                  "_meta": {"progressToken": token}})
        prog = notifications(r, "notifications/progress")
        assert prog and all(type(p["params"]["progressToken"]) is type(token) and
                            p["params"]["progressToken"] == token for p in prog), prog


# --------------------------------------------------------------------- revision-specific shapes --


def test_2025_03_26_has_no_structured_content_or_output_schema(host, http) -> None:
    s = Session(http, host.mcp_url, "2025-03-26")
    s.initialize()
    tools = s.call("tools/list", {})["tools"]
    assert not any("outputSchema" in t for t in tools), [t["name"] for t in tools if "outputSchema" in t]
    r = s.call("tools/call", {"name": "echo.echo", "arguments": {"message": "old"}})
    assert "structuredContent" not in r and text_of(r) == "old"


def test_2025_06_18_has_structured_content_and_output_schema(host, http) -> None:
    s = Session(http, host.mcp_url, "2025-06-18")
    s.initialize()
    tools = {t["name"]: t for t in s.call("tools/list", {})["tools"]}
    assert tools["echo.echo"].get("outputSchema", {}).get("type") == "object"
    r = s.call("tools/call", {"name": "echo.echo", "arguments": {"message": "new"}})
    assert r["structuredContent"] == {"message": "new", "length": 3}


def test_stateless_results_carry_result_type_and_server_info(host, http) -> None:
    r, body = stateless_call(http, host.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "m"}})
    res = result_of(r, body["id"])
    assert res["resultType"] == "complete"
    info = res.get("_meta", {}).get("io.modelcontextprotocol/serverInfo")
    assert info and info["name"], res
    # a tool error result too
    r, body = stateless_call(http, host.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {}})
    assert result_of(r, body["id"])["resultType"] == "complete"


def test_session_results_carry_no_2026_fields(host, http) -> None:
    s = Session(http, host.mcp_url)
    s.initialize()
    r = s.call("tools/call", {"name": "echo.echo", "arguments": {"message": "m"}})
    assert "resultType" not in r, r
    lst = s.call("tools/list", {})
    assert "ttlMs" not in lst and "cacheScope" not in lst, lst.keys()


def test_stateless_request_in_body_only_headers_from_sse_client(host) -> None:
    """A streamed stateless call: the final SSE event is the answer and the stream then ends."""
    body = stateless_body("tools/call", {"name": "echo.count", "arguments": {"to": 3, "delay_ms": 0},
                                         "_meta": {"progressToken": 3}})
    with httpx.Client(timeout=10) as c:
        with c.stream("POST", host.mcp_url, content=json.dumps(body),
                      headers=stateless_headers("tools/call", "echo.count", accept=ACCEPT_SSE)) as r:
            evs = [e for e in parse_sse_lines(r.iter_lines()) if e.data.strip()]
    assert evs[-1].json()["id"] == body["id"]
    assert all(e.id is None for e in evs) or len({e.id for e in evs}) == len(evs)
