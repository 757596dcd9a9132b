"""`mcp-host stdio`: newline-delimited JSON-RPC on stdin/stdout, logs on stderr."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from typing import Any

import pytest

from mcpwire import (
    CLIENT_INFO,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    text_of,
)


class StdioPeer:
    def __init__(self, spec) -> None:
        self.spec = spec
        self.proc: subprocess.Popen[bytes] = spec.popen()
        self.lines: "queue.Queue[bytes | None]" = queue.Queue()
        self.raw_lines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._id = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg: Any) -> None:
        self.send_raw(json.dumps(msg).encode() + b"\n")

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from mcp-host stdio within {timeout}s; stderr:\n{self.spec.logs()[-2000:]}")
        assert line is not None, f"mcp-host stdio closed stdout; stderr:\n{self.spec.logs()[-2000:]}"
        return json.loads(line)

    def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[dict]]:
        """Send a request; return (answer, notifications received before it)."""
        self._id += 1
        rid = self._id
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        notes = []
        while True:
            m = self.recv()
            if m.get("id") == rid and ("result" in m or "error" in m):
                return m, notes
            notes.append(m)

    def initialize(self, version: str = "2025-11-25") -> dict[str, Any]:
        ans, _ = self.request("initialize", {"protocolVersion": version, "capabilities": {}, "clientInfo": CLIENT_INFO})
        assert "result" in ans, ans
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return ans["result"]

    def close(self, timeout: float = 5.0) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("mcp-host stdio did not exit after stdin closed")


@pytest.fixture
def peer(stdio_spec):
    p = StdioPeer(stdio_spec)
    yield p
    if p.proc.poll() is None:
        p.proc.kill()
        p.proc.wait(5)


def test_stdio_session_flow(peer) -> None:
    init = peer.initialize()
    assert init["protocolVersion"] == "2025-11-25"
    assert "tools" in init["capabilities"]
    ans, _ = peer.request("tools/list", {})
    names = [t["name"] for t in ans["result"]["tools"]]
    assert {"echo.echo", "cecho.echo", "faults.hang"} <= set(names), names
    ans, _ = peer.request("tools/call", {"name": "echo.echo", "arguments": {"message": "line\nbreak"}})
    assert text_of(ans["result"]) == "line\nbreak"
    assert ans["result"]["structuredContent"] == {"message": "line\nbreak", "length": 10}
    ans, _ = peer.request("ping")
    assert ans["result"] == {}
    assert peer.close() == 0
    # stdout carried only JSON-RPC, one message per line
    for line in peer.raw_lines:
        assert line.endswith(b"\n") and b"\n" not in line[:-1]
        json.loads(line)


def test_stdio_progress(peer) -> None:
    peer.initialize()
    ans, notes = peer.request("tools/call", {"name": "echo.count", "arguments": {"to": 3, "delay_ms": 5},
                                             "_meta": {"progressToken": 99}})
    prog = [n for n in notes if n.get("method") == "notifications/progress"]
    assert [p["params"]["progress"] for p in prog] == [1, 2, 3], notes
    assert all(p["params"]["progressToken"] == 99 for p in prog)
    assert ans["result"]["structuredContent"] == {"counted": 3}


def test_stdio_errors_keep_the_loop_alive(peer) -> None:
    peer.initialize()
    peer.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": \n')
    m = peer.recv()
    assert m["error"]["code"] == PARSE_ERROR and m.get("id") is None, m
    peer.send_raw(b"[]\n")
    m = peer.recv()
    assert m["error"]["code"] == INVALID_REQUEST, m
    ans, _ = peer.request("no/such/method", {})
    assert ans["error"]["code"] == METHOD_NOT_FOUND
    ans, _ = peer.request("tools/call", {"name": "echo.missing", "arguments": {}})
    assert ans["error"]["code"] == INVALID_PARAMS
    ans, _ = peer.request("tools/call", {"name": "echo.add", "arguments": {"a": 1, "b": "2"}})
    assert ans["result"]["isError"] is True and "b" in text_of(ans["result"])
    ans, _ = peer.request("tools/call", {"name": "faults.tool_error", "arguments": {}})
    assert ans["result"]["isError"] is True and "tool failed on purpose" in text_of(ans["result"])
    ans, _ = peer.request("tools/call", {"name": "faults.internal_error", "arguments": {}})
    assert ans["error"]["code"] == -32603
    ans, _ = peer.request("tools/call", {"name": "echo.echo", "arguments": {"message": "ok"}})
    assert text_of(ans["result"]) == "ok"


def test_stdio_blank_lines_are_ignored(peer) -> None:
    peer.send_raw(b"\n\r\n")
    peer.initialize()
    ans, _ = peer.request("ping")
    assert ans["result"] == {}


def test_stdio_notifications_get_no_answer(peer) -> None:
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1234}})
    ans, notes = peer.request("ping")
    assert ans["result"] == {} and notes == [], notes


def test_stdio_exits_on_eof(peer) -> None:
    peer.initialize()
    t0 = time.monotonic()
    assert peer.close() == 0
    assert time.monotonic() - t0 < 5


def test_stdio_logs_go_to_stderr_as_json(stdio_spec, peer) -> None:
    peer.initialize()
    peer.request("tools/call", {"name": "echo.echo", "arguments": {"message": "x"}})
    peer.close()
    lines = [ln for ln in stdio_spec.logs().splitlines() if ln.strip()]
    for ln in lines:
        assert isinstance(json.loads(ln), dict), ln


def test_stdio_stateless_2026(peer) -> None:
    """2026-07-28 over stdio: no initialize; every request carries the _meta envelope."""
    from mcpwire import MODERN, modern_meta

    ans, _ = peer.request("server/discover", {"_meta": modern_meta()})
    assert MODERN in ans["result"]["supportedVersions"], ans
    ans, _ = peer.request("tools/list", {"_meta": modern_meta()})
    assert "echo.echo" in [t["name"] for t in ans["result"]["tools"]]
    ans, notes = peer.request("tools/call", {"name": "echo.count", "arguments": {"to": 2, "delay_ms": 0},
                                             "_meta": {**modern_meta(), "progressToken": "s"}})
    assert ans["result"]["structuredContent"] == {"counted": 2}
    assert [n["params"]["progress"] for n in notes if n.get("method") == "notifications/progress"] == [1, 2]
    ans, _ = peer.request("tools/list", {"_meta": modern_meta("2099-01-01")})
    assert ans["error"]["code"] == -32022 and MODERN in ans["error"]["data"]["supported"], ans


def test_stdio_cancelled_notification(peer) -> None:
    """notifications/cancelled stops the call; the host SHOULD NOT answer the cancelled request."""
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": 500, "method": "tools/call",
               "params": {"name": "echo.count", "arguments": {"to": 30, "delay_ms": 100}, "_meta": {"progressToken": 5}}})
    first = peer.recv()
    assert first.get("method") == "notifications/progress", first
    peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 500, "reason": "test"}})
    ans, notes = peer.request("ping")
    assert ans["result"] == {}
    time.sleep(1.0)
    later = []
    while not peer.lines.empty():
        line = peer.lines.get_nowait()
        if line:
            later.append(json.loads(line))
    progress_after = [m for m in notes + later if m.get("method") == "notifications/progress"]
    assert len(progress_after) <= 2, f"work went on after cancellation: {progress_after}"
    answered = [m for m in notes + later if m.get("id") == 500]
    assert answered == [], f"the cancelled request was answered: {answered}"


def test_stdio_requests_run_concurrently_and_deadline_applies(workroot) -> None:
    from conftest import StdioSpec

    p = StdioPeer(StdioSpec(workroot, config={"server": {"call_timeout_ms": 1000}}))
    try:
        p.initialize()
        t0 = time.monotonic()
        p.send({"jsonrpc": "2.0", "id": "hang", "method": "tools/call",
                "params": {"name": "faults.hang", "arguments": {}}})
        ans, _ = p.request("tools/call", {"name": "echo.echo", "arguments": {"message": "not blocked"}})
        assert text_of(ans["result"]) == "not blocked"
        assert time.monotonic() - t0 < 0.8, "a hung call blocked the next request"
        m = p.recv(timeout=5)
        elapsed = time.monotonic() - t0
        assert m.get("id") == "hang", m
        assert 0.8 < elapsed < 3.0, elapsed
        assert m.get("error", {}).get("code") == -32603 or m["result"].get("isError") is True, m
    finally:
        p.proc.kill()
        p.proc.wait(5)


def test_stdio_exits_on_eof_with_a_call_in_flight(peer) -> None:
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "faults.hang", "arguments": {}}})
    time.sleep(0.2)
    t0 = time.monotonic()
    peer.close(timeout=8)
    assert time.monotonic() - t0 < 5, "stdio mode did not exit promptly on EOF with a hung call"
