"""The official `mcp` Python client (PyPI) against MCPHost over Streamable HTTP and stdio.

Modes:
  legacy       initialize handshake (2025-11-25, sessions)
  2026-07-28   stateless revision adopted directly (no probe)
  auto         the client probes server/discover and must end up on 2026-07-28
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import anyio
import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from mcpwire import MODERN, text_of

HTTP_MODES = ["legacy", MODERN, "auto"]
TIMEOUT = 30


def run(fn: Callable[[], Awaitable[Any]], timeout: float = TIMEOUT) -> Any:
    async def main() -> Any:
        with anyio.fail_after(timeout):
            return await fn()

    return anyio.run(main)


def dump(result: Any) -> dict[str, Any]:
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")


async def _all_tools(c: Client) -> list[Any]:
    tools: list[Any] = []
    cursor = None
    for _ in range(100):
        page = await c.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


async def _basic_flow(c: Client) -> None:
    tools = await _all_tools(c)
    names = [t.name for t in tools]
    assert "echo.echo" in names and "cecho.echo" in names, names
    assert len(names) == len(set(names)), f"duplicate tool names: {names}"
    by_name = {t.name: t for t in tools}
    assert by_name["echo.echo"].input_schema.get("type") == "object"

    r = dump(await c.call_tool("echo.echo", {"message": "hello, wörld"}))
    assert not r.get("isError"), r
    assert text_of(r) == "hello, wörld"
    assert r["structuredContent"] == {"message": "hello, wörld", "length": len("hello, wörld")}

    r = dump(await c.call_tool("echo.add", {"a": 2, "b": 40.5}))
    assert not r.get("isError"), r
    assert r["structuredContent"]["sum"] == 42.5

    r = dump(await c.call_tool("cecho.echo", {"message": "from C"}))
    assert not r.get("isError"), r
    assert text_of(r) == "from C"


@pytest.mark.parametrize("mode", HTTP_MODES)
def test_http_client_basic_flow(host, mode: str) -> None:
    async def go() -> None:
        async with Client(host.mcp_url, mode=mode, read_timeout_seconds=20) as c:
            if mode == "legacy":
                assert c.protocol_version == "2025-11-25"
            else:
                assert c.protocol_version == MODERN, f"mode={mode} negotiated {c.protocol_version}"
            await _basic_flow(c)

    run(go)


@pytest.mark.parametrize("mode", HTTP_MODES)
def test_http_client_progress(host, mode: str) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async def go() -> dict[str, Any]:
        async with Client(host.mcp_url, mode=mode, read_timeout_seconds=20) as c:
            return dump(await c.call_tool("echo.count", {"to": 5, "delay_ms": 20}, progress_callback=on_progress))

    r = run(go)
    assert not r.get("isError"), r
    assert r["structuredContent"] == {"counted": 5}
    values = [p for p, _ in seen]
    assert values, "no progress notification reached the callback"
    assert values == sorted(values) and len(set(values)) == len(values), f"progress not increasing: {values}"
    assert values[-1] == 5, values
    assert all(t == 5 for _, t in seen), seen


@pytest.mark.parametrize("mode", HTTP_MODES)
def test_http_client_bad_arguments_are_tool_errors(host, mode: str) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Client(host.mcp_url, mode=mode, read_timeout_seconds=20) as c:
            a = dump(await c.call_tool("echo.add", {"a": "two", "b": 1}))
            b = dump(await c.call_tool("echo.echo", {}))
            return a, b

    wrong_type, missing = run(go)
    assert wrong_type.get("isError") is True, wrong_type
    assert "a" in text_of(wrong_type), wrong_type
    assert missing.get("isError") is True, missing
    assert "message" in text_of(missing), missing


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_http_client_tool_error_and_recovery(host, mode: str) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Client(host.mcp_url, mode=mode, read_timeout_seconds=20) as c:
            bad = dump(await c.call_tool("faults.tool_error", {}))
            ok = dump(await c.call_tool("echo.echo", {"message": "still here"}))
            return bad, ok

    bad, ok = run(go)
    assert bad.get("isError") is True and "tool failed on purpose" in text_of(bad), bad
    assert text_of(ok) == "still here"


def test_http_low_level_client_session(host) -> None:
    """The transport + ClientSession pairing that BACKENDS.md §7 documents."""

    async def go() -> list[str]:
        async with streamable_http_client(host.mcp_url) as (r, w, *_):
            async with ClientSession(r, w) as s:
                init = await s.initialize()
                assert init.protocol_version == "2025-11-25"
                assert init.server_info.name
                assert init.capabilities.tools is not None
                return [t.name for t in (await s.list_tools()).tools]

    names = run(go)
    assert "echo.echo" in names


# ------------------------------------------------------------------------------------- stdio --


def _stdio_params(spec) -> StdioServerParameters:
    return StdioServerParameters(command=spec.command, args=spec.args, env=dict(spec.env))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_stdio_client_basic_flow(stdio_spec, mode: str) -> None:
    async def go() -> str:
        with open(stdio_spec.stderr_path, "a") as errlog:
            transport = stdio_client(_stdio_params(stdio_spec), errlog=errlog)
            async with Client(transport, mode=mode, read_timeout_seconds=20) as c:
                await _basic_flow(c)
                return c.protocol_version

    version = run(go)
    if mode == "legacy":
        assert version == "2025-11-25"
    else:
        assert version in ("2025-11-25", MODERN)


def test_stdio_client_session_progress_and_errors(stdio_spec) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        with open(stdio_spec.stderr_path, "a") as errlog:
            async with stdio_client(_stdio_params(stdio_spec), errlog=errlog) as (r, w, *_):
                async with ClientSession(r, w) as s:
                    await s.initialize()
                    counted = dump(await s.call_tool("echo.count", {"to": 4, "delay_ms": 10},
                                                     progress_callback=on_progress))
                    bad = dump(await s.call_tool("echo.add", {"a": "x", "b": 2}))
                    c = dump(await s.call_tool("cecho.echo", {"message": "stdio C"}))
                    return counted, bad, c

    counted, bad, c = run(go)
    assert counted["structuredContent"] == {"counted": 4}
    assert seen == [1, 2, 3, 4], seen
    assert bad.get("isError") is True and "a" in text_of(bad)
    assert text_of(c) == "stdio C"


def test_stdio_client_via_parameters(stdio_spec) -> None:
    """Client(StdioServerParameters) lets the SDK own the process (auto mode)."""

    async def go() -> str:
        async with Client(_stdio_params(stdio_spec), read_timeout_seconds=20) as c:
            r = dump(await c.call_tool("echo.echo", {"message": "own process"}))
            assert text_of(r) == "own process"
            return c.protocol_version

    assert run(go) in ("2025-11-25", MODERN)

