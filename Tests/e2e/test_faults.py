"""Fault-injection plugin: a misbehaving plugin must never take the host down or hold it up.

`fault_host` runs with server.call_timeout_ms = 1500.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from mcpwire import INTERNAL_ERROR, Session, messages, result_of, stateless_call, text_of

DEADLINE_S = 1.5


def stateless(h, http, name, args=None):
    r, body = stateless_call(http, h.mcp_url, "tools/call", {"name": name, "arguments": args or {}})
    return r, body["id"]


def session_call(h, http, name, args=None):
    s = Session(http, h.mcp_url)
    s.initialize()
    r, rid = s.request("tools/call", {"name": name, "arguments": args or {}})
    return r, rid


CALLERS = {"stateless": stateless, "session": session_call}


def only_answer(r, rid):
    msgs = [m for m in messages(r) if isinstance(m, dict) and m.get("id") == rid]
    assert len(msgs) == 1, (r.status_code, r.text)
    return msgs[0]


def assert_still_serving(h, http) -> None:
    r, rid = stateless(h, http, "echo.echo", {"message": "alive"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert text_of(result_of(r, rid)) == "alive"
    assert http.get(h.url + "/health").status_code == 200
    assert h.alive()


@pytest.mark.parametrize("via", CALLERS)
def test_tool_error_is_an_error_result(fault_host, http, via) -> None:
    r, rid = CALLERS[via](fault_host, http, "faults.tool_error")
    assert r.status_code == 200, (r.status_code, r.text)
    res = result_of(r, rid)
    assert res.get("isError") is True, res
    assert "tool failed on purpose" in text_of(res)
    assert_still_serving(fault_host, http)


@pytest.mark.parametrize("via", CALLERS)
def test_internal_error_is_32603(fault_host, http, via) -> None:
    r, rid = CALLERS[via](fault_host, http, "faults.internal_error")
    msg = only_answer(r, rid)
    assert "error" in msg and msg["error"]["code"] == INTERNAL_ERROR, msg
    assert_still_serving(fault_host, http)


@pytest.mark.parametrize("via", CALLERS)
def test_hang_is_answered_at_the_deadline(fault_host, http, via) -> None:
    t0 = time.monotonic()
    r, rid = CALLERS[via](fault_host, http, "faults.hang")
    elapsed = time.monotonic() - t0
    msg = only_answer(r, rid)
    assert elapsed < DEADLINE_S + 2, f"answered after {elapsed:.2f}s (deadline {DEADLINE_S}s)"
    assert elapsed >= DEADLINE_S - 0.2, f"answered after {elapsed:.2f}s, before the deadline"
    if "error" in msg:
        assert msg["error"]["code"] == INTERNAL_ERROR, msg
    else:
        res = msg["result"]
        assert res.get("isError") is True, res
        text = text_of(res).lower()
        assert "deadline" in text or "timed out" in text or "timeout" in text, res
    assert_still_serving(fault_host, http)


def test_hang_does_not_block_other_calls(fault_host) -> None:
    done = threading.Event()

    def hang() -> None:
        with httpx.Client(timeout=10) as c:
            stateless(fault_host, c, "faults.hang")
        done.set()

    threads = [threading.Thread(target=hang) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    with httpx.Client(timeout=10) as c:
        for i in range(10):
            t0 = time.monotonic()
            r, rid = stateless(fault_host, c, "echo.echo", {"message": f"x{i}"})
            assert text_of(result_of(r, rid)) == f"x{i}"
            assert time.monotonic() - t0 < 0.5, "a normal call waited behind hung calls"
    for t in threads:
        t.join(10)


@pytest.mark.parametrize("via", CALLERS)
def test_garbage_json_from_plugin(fault_host, http, via) -> None:
    r, rid = CALLERS[via](fault_host, http, "faults.garbage")
    msg = only_answer(r, rid)
    if "error" in msg:
        assert msg["error"]["code"] == INTERNAL_ERROR, msg
    else:
        assert msg["result"].get("isError") is True, msg
    assert_still_serving(fault_host, http)


def test_env_override_of_call_timeout(make_host, http) -> None:
    h = make_host(plugins=["echo", "faults"], env={"MCPHOST_SERVER_CALL_TIMEOUT_MS": "500"})
    t0 = time.monotonic()
    r, rid = stateless(h, http, "faults.hang")
    elapsed = time.monotonic() - t0
    only_answer(r, rid)
    assert elapsed < 0.5 + 2, elapsed
    assert_still_serving(h, http)


def test_all_faults_in_one_session_then_normal_calls(fault_host, http) -> None:
    s = Session(http, fault_host.mcp_url)
    s.initialize()
    for name in ("faults.tool_error", "faults.internal_error", "faults.garbage", "faults.hang"):
        r, _ = s.request("tools/call", {"name": name, "arguments": {}})
        assert r.status_code in (200, 500), (name, r.status_code, r.text)
    assert text_of(s.call("tools/call", {"name": "echo.echo", "arguments": {"message": "fine"}})) == "fine"
    assert text_of(s.call("tools/call", {"name": "cecho.echo", "arguments": {"message": "fine"}})) == "fine"
    assert s.call("ping") == {}
