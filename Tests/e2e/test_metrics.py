"""`server.metrics_path`: Prometheus metrics of requests and tool calls, labelled by tenant id,
never by a key; off unless configured."""

from __future__ import annotations

import re
from typing import Iterator

import httpx
import pytest

from conftest import Host
from mcpwire import stateless_call
from test_tenancy import KEY_A, KEY_B, WRONG_KEY, sha256_hex, tenancy_config


@pytest.fixture(scope="module")
def metrics_host(workroot) -> Iterator[Host]:
    config = tenancy_config()
    config["server"] = {"metrics_path": "/metrics"}
    h = Host(workroot, ("echo", "cecho"), config=config)
    yield h
    h.stop()


def samples(text: str) -> dict[str, float]:
    """`name{labels}` → value, for every sample line of an exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def call(http: httpx.Client, host: Host, key: str | None, tool: str, args: dict) -> httpx.Response:
    r, _ = stateless_call(http, host.mcp_url, "tools/call", {"name": tool, "arguments": args},
                          headers={"x-api-key": key} if key else None)
    return r


def test_requests_and_tool_calls_are_counted_per_tenant(metrics_host: Host, http: httpx.Client) -> None:
    for _ in range(3):
        assert call(http, metrics_host, KEY_A, "echo.echo", {"message": "a"}).status_code == 200
    assert call(http, metrics_host, KEY_B, "echo.echo", {"message": "b"}).status_code == 200
    assert call(http, metrics_host, KEY_B, "echo.echo", {"message": 5}).status_code == 200  # invalid arguments
    assert call(http, metrics_host, KEY_B, "echo.nonexistent", {}).status_code == 400  # not a catalog tool
    assert call(http, metrics_host, WRONG_KEY, "echo.echo", {"message": "x"}).status_code == 401
    assert call(http, metrics_host, None, "echo.echo", {"message": "x"}).status_code == 401

    r = http.get(metrics_host.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    got = samples(r.text)
    assert got['mcphost_http_requests_total{tenant="alpha",status="200"}'] == 3
    assert got['mcphost_http_requests_total{tenant="beta",status="200"}'] == 2
    assert got['mcphost_http_requests_total{tenant="beta",status="400"}'] == 1
    assert got['mcphost_http_requests_total{tenant="-",status="401"}'] == 2
    assert got['mcphost_tool_calls_total{tenant="alpha",tool="echo.echo",outcome="ok"}'] == 3
    assert got['mcphost_tool_calls_total{tenant="beta",tool="echo.echo",outcome="ok"}'] == 1
    assert got['mcphost_tool_calls_total{tenant="beta",tool="echo.echo",outcome="invalid_arguments"}'] == 1
    assert got['mcphost_tool_call_duration_seconds_count{tenant="alpha",tool="echo.echo"}'] == 3
    assert not any("nonexistent" in k for k in got), "an unknown tool name became a label value"
    # Label values are tenant ids, never keys or their digests.
    for key in (KEY_A, KEY_B, WRONG_KEY):
        assert key not in r.text and sha256_hex(key) not in r.text
    assert not re.search(r'tenant="(?!alpha"|beta"|-")', r.text), r.text


def test_metrics_are_off_unless_configured(host: Host, http: httpx.Client) -> None:
    assert http.get(host.url + "/metrics").status_code == 404


def test_metrics_path_must_not_shadow_the_endpoint(workroot) -> None:
    with pytest.raises(RuntimeError) as failure:
        Host(workroot, ("echo",), config={"server": {"metrics_path": "/mcp"}})
    assert "server.metrics_path" in str(failure.value)
