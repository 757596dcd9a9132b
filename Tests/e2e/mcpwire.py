"""Raw wire helpers for the MCPHost end-to-end tests.

Everything here speaks plain HTTP (httpx) or newline-delimited JSON-RPC, so the tests can check
status codes, headers and exact error codes that an SDK client would hide.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import httpx

MODERN = "2026-07-28"
LEGACY = ("2025-11-25", "2025-06-18", "2025-03-26")
ALL_VERSIONS = (MODERN, *LEGACY)

ACCEPT_BOTH = "application/json, text/event-stream"
ACCEPT_JSON = "application/json"
ACCEPT_SSE = "text/event-stream"

META_PV = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_INFO = "io.modelcontextprotocol/clientInfo"

# JSON-RPC / MCP error codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022

SESSION_ID_RE = re.compile(r"^[\x21-\x7E]+$")

CLIENT_INFO = {"name": "mcphost-e2e", "version": "1.0.0"}

_ids = itertools.count(1)


def next_id() -> int:
    return next(_ids)


def modern_meta(version: str = MODERN, **extra: Any) -> dict[str, Any]:
    meta = {META_PV: version, META_CAPS: {}, META_INFO: CLIENT_INFO}
    meta.update(extra)
    return meta


# --------------------------------------------------------------------------------------- SSE --


@dataclass
class SSEEvent:
    data: str
    id: str | None = None
    event: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse_lines(lines: Iterable[str]) -> Iterable[SSEEvent]:
    """Incremental SSE parser (WHATWG rules, enough for tests). Yields events as they complete."""
    data: list[str] = []
    ev_id: str | None = None
    ev_type: str | None = None
    retry: int | None = None
    for raw in lines:
        line = raw.rstrip("\r\n") if raw.endswith(("\r", "\n")) else raw
        if line == "":
            if data or ev_id is not None or ev_type is not None:
                if data:
                    yield SSEEvent(data="\n".join(data), id=ev_id, event=ev_type, retry=retry)
                data, ev_id, ev_type, retry = [], None, None, None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "id":
            ev_id = value
        elif name == "event":
            ev_type = value
        elif name == "retry":
            try:
                retry = int(value)
            except ValueError:
                pass
    if data:
        yield SSEEvent(data="\n".join(data), id=ev_id, event=ev_type, retry=retry)


def parse_sse(text: str) -> list[SSEEvent]:
    return list(parse_sse_lines(text.splitlines()))


def is_sse(resp: httpx.Response) -> bool:
    return resp.headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"


def is_json(resp: httpx.Response) -> bool:
    return resp.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def messages(resp: httpx.Response) -> list[Any]:
    """All JSON-RPC messages in a response, whether it is JSON (object or array) or SSE."""
    if is_sse(resp):
        return [e.json() for e in parse_sse(resp.text) if e.data.strip()]
    if not resp.content:
        return []
    body = resp.json()
    return body if isinstance(body, list) else [body]


def answer(resp: httpx.Response, req_id: Any = None) -> dict[str, Any]:
    """The response message (result or error) for req_id (or the only response) in resp."""
    msgs = [m for m in messages(resp) if isinstance(m, dict) and ("result" in m or "error" in m)]
    if req_id is not None:
        msgs = [m for m in msgs if m.get("id") == req_id]
    assert len(msgs) == 1, f"expected one answer for id {req_id!r}, got {msgs!r} (HTTP {resp.status_code}, " \
                           f"{resp.headers.get('content-type')!r}, body {resp.text[:500]!r})"
    return msgs[0]


def result_of(resp: httpx.Response, req_id: Any = None) -> dict[str, Any]:
    msg = answer(resp, req_id)
    assert "result" in msg, f"expected a result, got {msg!r}"
    return msg["result"]


def error_of(resp: httpx.Response, req_id: Any = "any") -> dict[str, Any]:
    """The JSON-RPC error object in resp (JSON body; id may be null for parse errors)."""
    msgs = [m for m in messages(resp) if isinstance(m, dict) and "error" in m]
    if req_id != "any":
        msgs = [m for m in msgs if m.get("id") == req_id]
    assert len(msgs) == 1, f"expected one error, got HTTP {resp.status_code} {resp.headers.get('content-type')!r} " \
                           f"{resp.text[:500]!r}"
    err = msgs[0]["error"]
    assert isinstance(err.get("code"), int) and isinstance(err.get("message"), str), err
    return err


def notifications(resp: httpx.Response, method: str | None = None) -> list[dict[str, Any]]:
    out = [m for m in messages(resp) if isinstance(m, dict) and "method" in m and "id" not in m]
    return [m for m in out if method is None or m["method"] == method]


def text_of(result: dict[str, Any]) -> str:
    return "\n".join(c.get("text", "") for c in result.get("content", []) if c.get("type") == "text")


# ------------------------------------------------------------------------ 2026-07-28 (stateless) --


def stateless_headers(method: str, name: str | None = None, version: str = MODERN,
                      accept: str = ACCEPT_BOTH, **extra: str) -> dict[str, str]:
    h = {"Content-Type": "application/json", "Accept": accept, "MCP-Protocol-Version": version,
         "Mcp-Method": method}
    if name is not None:
        h["Mcp-Name"] = name
    h.update(extra)
    return h


def stateless_body(method: str, params: dict[str, Any] | None = None, req_id: Any = None,
                   version: str = MODERN, meta_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    params = dict(params or {})
    meta = modern_meta(version)
    meta.update(params.pop("_meta", {}) or {})
    meta.update(meta_extra or {})
    params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": next_id() if req_id is None else req_id, "method": method, "params": params}


def stateless_call(client: httpx.Client, url: str, method: str, params: dict[str, Any] | None = None, *,
                   version: str = MODERN, accept: str = ACCEPT_BOTH, headers: dict[str, str] | None = None,
                   req_id: Any = None, meta_extra: dict[str, Any] | None = None
                   ) -> tuple[httpx.Response, dict[str, Any]]:
    """POST one stateless request with headers mirroring the body; returns (response, body sent)."""
    body = stateless_body(method, params, req_id=req_id, version=version, meta_extra=meta_extra)
    name = None
    if method in ("tools/call", "prompts/get"):
        name = (params or {}).get("name")
    elif method == "resources/read":
        name = (params or {}).get("uri")
    h = stateless_headers(method, name, version=version, accept=accept)
    if headers:
        for k, v in headers.items():
            # allow deleting a header by passing None
            for existing in [e for e in h if e.lower() == k.lower()]:
                del h[existing]
            if v is not None:
                h[k] = v
    return client.post(url, content=json.dumps(body).encode(), headers=h), body


# ------------------------------------------------------------------------- 2025-x (sessions) --


@dataclass
class Session:
    """A 2025-x session driven with raw HTTP."""

    client: httpx.Client
    url: str
    version: str = "2025-11-25"
    session_id: str | None = None
    init_result: dict[str, Any] | None = None
    init_response: httpx.Response | None = None
    send_version_header: bool = True
    extra_headers: dict[str, str] = field(default_factory=dict)

    def headers(self, accept: str = ACCEPT_BOTH, **extra: str | None) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": accept}
        if self.session_id is not None:
            h["Mcp-Session-Id"] = self.session_id
        if self.send_version_header and self.init_result is not None:
            h["MCP-Protocol-Version"] = self.version
        h.update(self.extra_headers)
        for k, v in extra.items():
            k = k.replace("_", "-")
            for existing in [e for e in h if e.lower() == k.lower()]:
                del h[existing]
            if v is not None:
                h[k] = v
        return h

    def initialize(self, accept: str = ACCEPT_BOTH, send_initialized: bool = True) -> dict[str, Any]:
        req_id = next_id()
        body = {"jsonrpc": "2.0", "id": req_id, "method": "initialize",
                "params": {"protocolVersion": self.version, "capabilities": {}, "clientInfo": CLIENT_INFO}}
        resp = self.client.post(self.url, json=body, headers={"Content-Type": "application/json", "Accept": accept,
                                                               **self.extra_headers})
        assert resp.status_code == 200, f"initialize: HTTP {resp.status_code} {resp.text[:500]!r}"
        self.init_response = resp
        self.session_id = resp.headers.get("mcp-session-id")
        assert self.session_id, f"initialize answered without Mcp-Session-Id: {dict(resp.headers)!r}"
        self.init_result = result_of(resp, req_id)
        if send_initialized:
            r = self.notify("notifications/initialized")
            assert r.status_code == 202, f"notifications/initialized: HTTP {r.status_code} {r.text[:300]!r}"
        return self.init_result

    def post(self, body: Any, accept: str = ACCEPT_BOTH, **extra: str | None) -> httpx.Response:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post(self.url, content=data, headers=self.headers(accept, **extra))

    def request(self, method: str, params: dict[str, Any] | None = None, accept: str = ACCEPT_BOTH,
                **extra: str | None) -> tuple[httpx.Response, int]:
        req_id = next_id()
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id, "method": method}
        if params is not None:
            body["params"] = params
        return self.post(body, accept, **extra), req_id

    def call(self, method: str, params: dict[str, Any] | None = None, accept: str = ACCEPT_BOTH) -> dict[str, Any]:
        resp, req_id = self.request(method, params, accept)
        assert resp.status_code == 200, f"{method}: HTTP {resp.status_code} {resp.text[:500]!r}"
        return result_of(resp, req_id)

    def notify(self, method: str, params: dict[str, Any] | None = None, **extra: str | None) -> httpx.Response:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            body["params"] = params
        return self.post(body, **extra)

    def delete(self) -> httpx.Response:
        return self.client.delete(self.url, headers=self.headers())
