"""`mcp-host` as an AWS Lambda runtime, driven through the Runtime API double (Tests/lambda_double).

The official `mcp` client talks to the host through the double's Function URL front (payload 2.0
events, RESPONSE_STREAM answers); API Gateway REST (1.0) and HTTP API (2.0) events are queued
directly and their buffered payloads checked field by field.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Iterator

import anyio
import httpx
import pytest
from mcp.client import Client

from lambdahost import LambdaHost
from lambda_double import STREAMING_CONTENT_TYPE, function_url_event
from mcpwire import (
    ACCEPT_BOTH,
    MODERN,
    parse_sse_lines,
    stateless_body,
    stateless_call,
    stateless_headers,
    text_of,
)

TIMEOUT = 30


@pytest.fixture(scope="module")
def lam(workroot: Path) -> Iterator[LambdaHost]:
    """One Lambda runtime (all plugins, defaults) for the module."""
    try:
        h = LambdaHost(workroot)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield h
    crashed = not h.alive()
    h.stop()
    assert not crashed, f"the Lambda runtime exited during the tests:\n{h.logs()[-3000:]}"


def run(fn: Any, timeout: float = TIMEOUT) -> Any:
    async def main() -> Any:
        with anyio.fail_after(timeout):
            return await fn()

    return anyio.run(main)


def dump(result: Any) -> dict[str, Any]:
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")


def rest_event(body: dict[str, Any] | bytes, headers: dict[str, list[str]], *, method: str = "POST",
               path: str = "/mcp", base64_body: bool = False, query: dict[str, list[str]] | None = None
               ) -> dict[str, Any]:
    """An API Gateway REST API (proxy integration, payload 1.0) event as API Gateway builds it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {
        "version": "1.0", "resource": "/mcp", "path": path, "httpMethod": method,
        "headers": {k: v[-1] for k, v in headers.items()},
        "multiValueHeaders": headers,
        "queryStringParameters": {k: v[-1] for k, v in (query or {}).items()} or None,
        "multiValueQueryStringParameters": query,
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "stage": "prod", "httpMethod": method,
                           "path": "/prod" + path, "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                           "identity": {"sourceIp": "203.0.113.7"}, "resourcePath": "/mcp"},
        "pathParameters": None, "stageVariables": None,
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode(),
        "isBase64Encoded": base64_body,
    }


def http_api_event(body: dict[str, Any], headers: dict[str, str], cookies: list[str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event: like a Function URL's, with a route key and stage."""
    event = function_url_event("POST", "/mcp", "a=1&a=2", list(headers.items()), json.dumps(body).encode())
    ctx = event["requestContext"]
    ctx["domainName"] = "abc123.execute-api.us-east-1.amazonaws.com"
    ctx["domainPrefix"] = "abc123"
    ctx["routeKey"] = event["routeKey"] = "POST /mcp"
    ctx["stage"] = "prod"
    if cookies:
        event["cookies"] = cookies
    return event


def payload_body(payload: dict[str, Any]) -> bytes:
    body = payload.get("body") or ""
    return base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()


def header_of(payload: dict[str, Any], name: str) -> str | None:
    for k, v in (payload.get("headers") or {}).items():
        if k.lower() == name:
            return v
    return None


# ------------------------------------------------------------------ official client, Function URL --


@pytest.mark.parametrize("mode", ["legacy", MODERN, "auto"])
def test_official_client_through_function_url(lam: LambdaHost, mode: str) -> None:
    async def go() -> None:
        async with Client(lam.mcp_url, mode=mode, read_timeout_seconds=20) as c:
            assert c.protocol_version == ("2025-11-25" if mode == "legacy" else MODERN)
            tools = (await c.list_tools()).tools
            names = [t.name for t in tools]
            assert "echo.echo" in names and "cecho.echo" in names, names
            r = dump(await c.call_tool("echo.echo", {"message": "through a Function URL"}))
            assert not r.get("isError"), r
            assert text_of(r) == "through a Function URL"
            assert r["structuredContent"] == {"message": "through a Function URL", "length": 22}

    run(go)
    # Every answer went back streamed with the Function URL prelude (auto mode, Function URL events).
    answered = [i for i in lam.double.invocations.values() if i.outcome == "response"]
    assert answered and all(i.streamed and i.content_type == STREAMING_CONTENT_TYPE for i in answered)


def test_streamed_sse_progress_arrives_in_order_and_incrementally(lam: LambdaHost) -> None:
    params = {"name": "echo.count", "arguments": {"to": 5, "delay_ms": 150}, "_meta": {"progressToken": "p1"}}
    body = stateless_body("tools/call", params)
    headers = stateless_headers("tools/call", "echo.count", accept=ACCEPT_BOTH)
    arrivals: list[tuple[float, dict[str, Any]]] = []
    t0 = time.monotonic()
    with httpx.Client(timeout=20) as client:
        with client.stream("POST", lam.mcp_url, content=json.dumps(body), headers=headers) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"].startswith("text/event-stream"), r.headers
            for event in parse_sse_lines(r.iter_lines()):
                if event.data.strip():
                    arrivals.append((time.monotonic() - t0, event.json()))
    progress = [m for _, m in arrivals if m.get("method") == "notifications/progress"]
    assert [p["params"]["progress"] for p in progress] == [1, 2, 3, 4, 5], arrivals
    assert all(p["params"]["progressToken"] == "p1" for p in progress)
    final = arrivals[-1][1]
    assert final.get("id") == body["id"] and final["result"]["structuredContent"] == {"counted": 5}, final
    # Streamed, not buffered: the first progress event reached the client well before the answer.
    first_progress = next(t for t, m in arrivals if m.get("method") == "notifications/progress")
    assert arrivals[-1][0] - first_progress >= 0.4, arrivals


# --------------------------------------------------------------------------- API Gateway events --


def test_api_gateway_rest_event(lam: LambdaHost) -> None:
    body = stateless_body("tools/call", {"name": "echo.echo", "arguments": {"message": "REST"}})
    headers = {k: [v] for k, v in stateless_headers("tools/call", "echo.echo").items()}
    headers["X-Repeated"] = ["one", "two"]
    inv = lam.double.invoke(rest_event(body, headers, base64_body=True, query={"q": ["a b", "c&d"]})).wait(TIMEOUT)
    assert inv.outcome == "response" and not inv.streamed, (inv.outcome, inv.error)
    payload = inv.json()
    assert payload["statusCode"] == 200, payload
    assert "multiValueHeaders" in payload and "cookies" not in payload
    assert header_of(payload, "content-type").startswith("application/json"), payload
    answer = json.loads(payload_body(payload))
    assert answer["id"] == body["id"] and text_of(answer["result"]) == "REST", answer


def test_api_gateway_http_api_event(lam: LambdaHost) -> None:
    body = stateless_body("tools/list")
    headers = stateless_headers("tools/list")
    inv = lam.double.invoke(http_api_event(body, headers, cookies=["a=1", "b=2"])).wait(TIMEOUT)
    assert inv.outcome == "response", inv.error
    # An HTTP API cannot stream: answered buffered in payload format 2.0 even in auto mode.
    assert not inv.streamed and inv.content_type == "application/json"
    payload = inv.json()
    assert payload["statusCode"] == 200 and payload["isBase64Encoded"] is False, payload
    assert "multiValueHeaders" not in payload
    names = [t["name"] for t in json.loads(payload["body"])["result"]["tools"]]
    assert "echo.echo" in names


def test_unsupported_event_is_an_invocation_error_and_the_runtime_goes_on(lam: LambdaHost) -> None:
    inv = lam.double.invoke({"Records": [{"eventSource": "aws:s3"}]}).wait(TIMEOUT)
    assert inv.outcome == "error"
    assert inv.error["errorType"] == "Runtime.UnsupportedEvent" == inv.error_type_header
    assert "not an HTTP event" in inv.error["errorMessage"]
    with httpx.Client(timeout=20) as client:
        r, _ = stateless_call(client, lam.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "x"}})
    assert r.status_code == 200


# ------------------------------------------------------------------------------ refusals --


def test_invalid_base64_body_is_400(lam: LambdaHost) -> None:
    event = function_url_event("POST", "/mcp", "", list(stateless_headers("tools/list").items()), b"")
    event["body"] = "eyJqc29ucnBj*not base64*"
    event["isBase64Encoded"] = True
    inv = lam.double.invoke(event).wait(TIMEOUT)
    assert inv.outcome == "response", inv.error
    raw = inv.payload
    mark = raw.find(b"\0" * 8)
    assert inv.streamed and mark > 0, raw[:200]
    prelude = json.loads(raw[:mark])
    assert prelude["statusCode"] == 400
    assert "base64" in json.loads(raw[mark + 8:])["error"]


def test_missing_accept_is_406(lam: LambdaHost) -> None:
    with httpx.Client(timeout=20) as client:
        del client.headers["accept"]  # httpx would send "Accept: */*"
        r, _ = stateless_call(client, lam.mcp_url, "tools/list", headers={"Accept": None})
    assert r.status_code == 406, (r.status_code, r.text)


def test_oversize_request_body_is_413(lam: LambdaHost) -> None:
    big = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": "echo.echo", "arguments": {"message": "x" * (4 * 1024 * 1024 + 10)}}}
    with httpx.Client(timeout=30) as client:
        r = client.post(lam.mcp_url, content=json.dumps(big), headers=stateless_headers("tools/call", "echo.echo"))
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert "larger than" in r.json()["error"] or "body" in r.json()["error"]


def test_oversize_buffered_response_is_a_clear_502_and_streaming_has_no_such_limit(lam: LambdaHost) -> None:
    message = "y" * 3_300_000  # echoed twice (text and structuredContent): over 6 MB as a payload
    body = stateless_body("tools/call", {"name": "echo.echo", "arguments": {"message": message}})
    headers = {k: [v] for k, v in stateless_headers("tools/call", "echo.echo").items()}
    inv = lam.double.invoke(rest_event(body, headers)).wait(TIMEOUT)
    assert inv.outcome == "response" and inv.rejected == [], (inv.outcome, inv.rejected)
    payload = inv.json()
    assert payload["statusCode"] == 502, {k: v for k, v in payload.items() if k != "body"}
    assert "6291456-byte limit" in json.loads(payload["body"])["error"]
    # The same answer through the (streaming) Function URL front arrives whole.
    with httpx.Client(timeout=30) as client:
        r, sent = stateless_call(client, lam.mcp_url, "tools/call",
                                 {"name": "echo.echo", "arguments": {"message": message}}, accept="application/json")
    assert r.status_code == 200
    assert r.json()["result"]["structuredContent"]["length"] == len(message)


# ------------------------------------------------------------------------------- deadlines --


def test_tool_call_is_bounded_by_the_invocation_deadline_and_the_runtime_goes_on(lam: LambdaHost) -> None:
    body = stateless_body("tools/call", {"name": "faults.hang", "arguments": {}})
    event = function_url_event("POST", "/mcp", "", list(stateless_headers("tools/call", "faults.hang").items()),
                               json.dumps(body).encode())
    t0 = time.monotonic()
    inv = lam.double.invoke(event, timeout_ms=1500).wait(TIMEOUT)
    elapsed = time.monotonic() - t0
    assert inv.outcome == "response" and inv.in_time, (inv.outcome, inv.error)
    assert 1.0 <= elapsed <= 1.6, elapsed
    mark = inv.payload.find(b"\0" * 8)
    answer = json.loads(inv.payload[mark + 8:].decode().split("data: ", 1)[-1].split("\n")[0]) \
        if b"data:" in inv.payload else json.loads(inv.payload[mark + 8:])
    assert answer["result"]["isError"] is True and "deadline" in text_of(answer["result"]), answer
    follow = lam.double.invoke(rest_event(stateless_body("tools/list"),
                                          {k: [v] for k, v in stateless_headers("tools/list").items()})).wait(TIMEOUT)
    assert follow.outcome == "response" and follow.json()["statusCode"] == 200


def test_standalone_event_stream_is_405_by_default(lam: LambdaHost) -> None:
    with httpx.Client(timeout=20) as client:
        r = client.get(lam.mcp_url, headers={"Accept": "text/event-stream"})
    assert r.status_code == 405 and "POST" in r.headers["allow"], (r.status_code, r.text)


def test_endless_stream_is_cut_at_the_deadline_with_error_trailers_and_the_runtime_goes_on(workroot: Path) -> None:
    # With --standalone-streams a 2025-x session's GET stream never ends by itself; at the deadline the
    # runtime ends it with the error trailers of a failed streamed response.
    lam = LambdaHost(workroot, plugins=("echo",), args=["lambda", "--standalone-streams"])
    try:
        _endless_stream(lam)
    finally:
        lam.stop()


def _endless_stream(lam: LambdaHost) -> None:
    with httpx.Client(timeout=20) as client:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                           "clientInfo": {"name": "lambda-e2e", "version": "1"}}}
        r = client.post(lam.mcp_url, json=init, headers={"Accept": ACCEPT_BOTH})
        assert r.status_code == 200, r.text
        sid = r.headers["mcp-session-id"]
        r = client.post(lam.mcp_url, json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                        headers={"Accept": ACCEPT_BOTH, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
        assert r.status_code == 202, r.text
    event = function_url_event("GET", "/mcp", "", [("accept", "text/event-stream"), ("mcp-session-id", sid),
                                                   ("mcp-protocol-version", "2025-11-25")], b"")
    inv = lam.double.invoke(event, timeout_ms=1200).wait(TIMEOUT)
    assert inv.outcome == "error" and inv.streamed, (inv.outcome, inv.payload[:200])
    assert inv.error_type_header == "Runtime.DeadlineExceeded"
    assert inv.stream_error["errorType"] == "Runtime.DeadlineExceeded"
    assert inv.in_time, "the runtime must give up before Lambda's own deadline"
    with httpx.Client(timeout=20) as client:
        r, _ = stateless_call(client, lam.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "on"}})
    assert r.status_code == 200 and text_of(r.json()["result"]) == "on"


# ---------------------------------------------------------------------------- start and init --


def test_in_memory_session_store_warning_at_init(lam: LambdaHost) -> None:
    warnings = [r for r in lam.log_records() if r.get("level") == "warning" and "session store" in r.get("msg", "")]
    assert warnings, lam.logs()[-2000:]


def test_bare_mcp_host_runs_the_lambda_loop_when_the_runtime_api_is_set(workroot: Path) -> None:
    h = LambdaHost(workroot, plugins=("echo",), args=[])
    try:
        with httpx.Client(timeout=20) as client:
            r, _ = stateless_call(client, h.mcp_url, "tools/call", {"name": "echo.echo", "arguments": {"message": "b"}})
        assert r.status_code == 200 and text_of(r.json()["result"]) == "b"
        assert len(h.double.init_errors) == 0
    finally:
        h.stop()


def test_group_writable_plugin_directory_is_an_init_error(workroot: Path) -> None:
    h = LambdaHost(workroot, plugins=("echo",), plugin_dir_mode=0o775, wait=False)
    try:
        error, error_type = h.double.wait_init_error(TIMEOUT)
        assert error_type == error["errorType"] == "Runtime.PluginDirectoryRefused", error
        assert str(h.plugin_dir) in error["errorMessage"] and "writable" in error["errorMessage"], error
        assert h.proc.wait(TIMEOUT) != 0
    finally:
        h.stop()


def test_bad_configuration_is_an_init_error_naming_the_key(workroot: Path) -> None:
    h = LambdaHost(workroot, plugins=("echo",), config={"server": {"call_timeout_ms": "soon"}}, wait=False)
    try:
        error, error_type = h.double.wait_init_error(TIMEOUT)
        assert error_type == error["errorType"] == "Runtime.InvalidConfiguration", error
        assert "call_timeout_ms" in error["errorMessage"], error
        assert h.proc.wait(TIMEOUT) != 0
        assert not any(i.delivered_at for i in h.double.invocations.values())
    finally:
        h.stop()


def test_api_keys_are_checked_behind_lambda_too(tmp_path: Path) -> None:
    """The gate is shared: a Function URL request without the tenant's key is refused with 401."""
    import hashlib

    key = "lambda-test-key-0123456789"
    config = {"auth": {"mode": "api_key", "header": "x-api-key"},
              "tenants": [{"id": "alpha", "api_key_sha256": [hashlib.sha256(key.encode()).hexdigest()]}]}
    try:
        host = LambdaHost(tmp_path, config=config)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        with httpx.Client(timeout=20) as client:
            missing, _ = stateless_call(client, host.mcp_url, "tools/list")
            wrong, _ = stateless_call(client, host.mcp_url, "tools/list", headers={"x-api-key": "not-the-key"})
            good, _ = stateless_call(client, host.mcp_url, "tools/list", headers={"x-api-key": key})
        assert missing.status_code == 401 and "error" in missing.json(), (missing.status_code, missing.text)
        assert wrong.status_code == 401, (wrong.status_code, wrong.text)
        assert good.status_code == 200, (good.status_code, good.text)
        assert any(t["name"] == "echo.echo" for t in good.json()["result"]["tools"])
        assert key not in host.logs()
    finally:
        host.stop()
