"""What every plugin's end-to-end tests share: calling one plugin's tools on a running host over
stateless MCP 2026-07-28, the assertions on a tool result, and stopping/awaiting the helper
processes (backends, doubles) the tests start."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Host
from mcpwire import result_of, stateless_call, text_of


class PluginCaller:
    """Calls `<plugin>.<tool>` on `host`. Every result is kept; `secrets` must appear in none of
    them, nor in the host's logs when the caller closes (which stops the host)."""

    def __init__(self, host: Host, plugin: str, secrets: tuple[str, ...] = (), headers: dict[str, str] | None = None,
                 timeout: float = 30.0):
        self.host = host
        self.plugin = plugin
        self.secrets = tuple(s for s in secrets if s)
        self.headers = headers
        self.results: list[dict[str, Any]] = []
        self.client = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))
        del self.client.headers["accept"]

    def call(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        name = tool if "." in tool else f"{self.plugin}.{tool}"
        r, _ = stateless_call(self.client, self.host.mcp_url, "tools/call", {"name": name, "arguments": args or {}},
                              headers=self.headers)
        result = result_of(r)
        text = json.dumps(result)
        for secret in self.secrets:
            assert secret not in text, f"a secret leaked into the result of {name}"
        self.results.append(result)
        return result

    def tools(self) -> list[dict[str, Any]]:
        r, _ = stateless_call(self.client, self.host.mcp_url, "tools/list", {}, headers=self.headers)
        return result_of(r)["tools"]

    def close(self) -> None:
        self.client.close()
        self.host.stop()
        logs = self.host.logs() + self.host.stdout()
        for secret in self.secrets:
            assert secret not in logs, "a secret leaked into the host's logs"


def ok(result: dict[str, Any]) -> dict[str, Any]:
    """The structuredContent of a successful tool result."""
    assert not result.get("isError"), text_of(result)
    assert "structuredContent" in result, result
    return result["structuredContent"]


def err(result: dict[str, Any]) -> str:
    """The text of a tool error result."""
    assert result.get("isError") is True, result
    return text_of(result)


def timed_error(caller: Any, tool: str, args: dict[str, Any] | None = None) -> tuple[str, float]:
    """Calls `tool`, which must fail, then closes `caller` (which stops its host). Returns the error
    text and the seconds the call took: the "upstream unreachable, answered within the deadline"
    checks of every plugin."""
    try:
        t0 = time.monotonic()
        msg = err(caller.call(tool, args))
        return msg, time.monotonic() - t0
    finally:
        caller.close()


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_http(url: str, proc: subprocess.Popen[Any], log: Path, what: str, timeout: float = 30.0) -> None:
    """Waits until `url` answers below 500; fails the test (with the log's tail) if `proc` exits or
    the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}", pytrace=False)
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_process(proc)
    pytest.fail(f"{what} not ready after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}", pytrace=False)


def silent_listener() -> socket.socket:
    """A loopback socket that accepts connections and never answers: an upstream that hangs.
    The caller closes it."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    return silent
