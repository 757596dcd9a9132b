"""A double of the AWS Lambda Runtime API and of a Function URL in front of it.

It implements the contract written down in ../shared/BACKENDS.md §6 (from the AWS docs and the
`awslambdaric` source):

  GET  /2018-06-01/runtime/invocation/next          blocks until an event is queued; 200 + event,
                                                    Lambda-Runtime-* headers
  POST /2018-06-01/runtime/invocation/{id}/response 202 {"status":"OK"}; 400 unknown id; 413 buffered
                                                    payload over 6 MB; streaming with
                                                    Lambda-Runtime-Function-Response-Mode: streaming,
                                                    chunked body, error trailers
  POST /2018-06-01/runtime/invocation/{id}/error    202 (body: errorMessage/errorType/stackTrace)
  POST /2018-06-01/runtime/init/error               202; the runtime is expected to exit

and two invoke fronts on a second port:

  POST /2015-03-31/functions/function/invocations   what the Runtime Interface Emulator offers:
                                                    the raw event in, the raw payload out
  anything else                                     a Function URL: the HTTP request becomes a
                                                    payload 2.0 event; the answer (buffered payload
                                                    or streamed prelude + 8 NUL + body) becomes the
                                                    HTTP response, streamed as it arrives

Everything runs on threads of the calling process, so tests can queue events directly
(`invoke`) and inspect every invocation afterwards.
"""

from __future__ import annotations

import base64
import json
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qsl, unquote

API = "/2018-06-01/runtime"
MAX_BUFFERED = 6 * 1024 * 1024
MAX_REQUEST = 6 * 1024 * 1024
STREAMING_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:mcp-host"
URL_ID = "abcdefghijklmnopqrstuvwxyz012345"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "+json", "+xml")

_END = object()


@dataclass
class Invocation:
    """One queued event and everything the runtime said about it."""

    id: str
    event: bytes
    deadline_ms: int
    queued_at: float = field(default_factory=time.monotonic)
    delivered_at: float | None = None
    answered_at: float | None = None
    # "response" | "error" once answered
    outcome: str | None = None
    streamed: bool = False
    content_type: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""
    trailers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    error_type_header: str | None = None
    rejected: list[int] = field(default_factory=list)
    _chunks: "queue.Queue[Any]" = field(default_factory=queue.Queue)
    _done: threading.Event = field(default_factory=threading.Event)
    _started: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float = 30.0) -> "Invocation":
        if not self._done.wait(timeout):
            raise TimeoutError(f"invocation {self.id} not answered within {timeout}s")
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait_started(self, timeout: float = 30.0) -> bool:
        """Until an answer (buffered or the first bytes of a stream) began; False on timeout."""
        return self._started.wait(timeout)

    def chunks(self, timeout: float = 30.0) -> Iterator[bytes]:
        """Body bytes as they arrive: the whole payload once for a buffered answer, each chunk of a
        streamed one. Ends when the answer is complete (nothing for an error)."""
        while True:
            item = self._chunks.get(timeout=timeout)
            if item is _END:
                self._chunks.put(_END)  # let a second reader end too
                return
            yield item

    def json(self) -> Any:
        return json.loads(self.payload)

    @property
    def stream_error(self) -> dict[str, Any] | None:
        body = self.trailers.get("lambda-runtime-function-error-body")
        return json.loads(base64.b64decode(body)) if body else None

    @property
    def in_time(self) -> bool:
        return self.answered_at is not None and self.answered_wall_ms <= self.deadline_ms

    answered_wall_ms: int = 0


class RuntimeAPIDouble:
    """Runtime API (one port) and invoke fronts (another port)."""

    def __init__(self, host: str = "127.0.0.1", timeout_ms: int = 30_000):
        self.timeout_ms = timeout_ms
        self.invocations: dict[str, Invocation] = {}
        self.init_errors: list[tuple[dict[str, Any], str | None]] = []
        self._pending: "queue.Queue[Invocation]" = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._polled = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.runtime_server = _QuietServer((host, 0), _runtime_handler(self))
        self.front_server = _QuietServer((host, 0), _front_handler(self))
        for server in (self.runtime_server, self.front_server):
            server.daemon_threads = True
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
                         for s in (self.runtime_server, self.front_server)]

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "RuntimeAPIDouble":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for server in (self.runtime_server, self.front_server):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> "RuntimeAPIDouble":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """The value for AWS_LAMBDA_RUNTIME_API."""
        host, port = self.runtime_server.server_address[:2]
        return f"{host}:{port}"

    @property
    def front_url(self) -> str:
        host, port = self.front_server.server_address[:2]
        return f"http://{host}:{port}"

    # -- invoking -------------------------------------------------------------------------------
    def invoke(self, event: Any, timeout_ms: int | None = None) -> Invocation:
        """Queues an event (a dict/list is sent as JSON, bytes as they are) and returns at once."""
        body = event if isinstance(event, (bytes, bytearray)) else json.dumps(event).encode()
        now_ms = int(time.time() * 1000)
        inv = Invocation(id=str(uuid.uuid4()), event=bytes(body),
                         deadline_ms=now_ms + (timeout_ms if timeout_ms is not None else self.timeout_ms))
        with self._lock:
            self.invocations[inv.id] = inv
        self._pending.put(inv)
        return inv

    def wait_polling(self, timeout: float = 30.0) -> float:
        """Blocks until a runtime waits in invocation/next; returns the seconds it took."""
        t0 = time.monotonic()
        with self._polled:
            if not self._polled.wait_for(lambda: self._waiting > 0 or self.init_errors, timeout):
                raise TimeoutError(f"no runtime called invocation/next within {timeout}s")
        return time.monotonic() - t0

    def wait_init_error(self, timeout: float = 30.0) -> tuple[dict[str, Any], str | None]:
        with self._polled:
            if not self._polled.wait_for(lambda: bool(self.init_errors), timeout):
                raise TimeoutError(f"no init/error within {timeout}s")
            return self.init_errors[0]

    # -- runtime side (called by the handler threads) -------------------------------------------
    def _next(self) -> Invocation | None:
        with self._polled:
            self._waiting += 1
            self._polled.notify_all()
        try:
            while not self._stopping.is_set():
                try:
                    inv = self._pending.get(timeout=0.1)
                except queue.Empty:
                    continue
                inv.delivered_at = time.monotonic()
                return inv
            return None
        finally:
            with self._polled:
                self._waiting -= 1

    def _find_open(self, request_id: str) -> Invocation | None:
        with self._lock:
            inv = self.invocations.get(request_id)
        if inv is None or inv.delivered_at is None or inv.outcome is not None:
            return None
        return inv

    def _finish(self, inv: Invocation, outcome: str) -> None:
        inv.outcome = outcome
        inv.answered_at = time.monotonic()
        inv.answered_wall_ms = int(time.time() * 1000)
        inv._chunks.put(_END)
        inv._done.set()
        inv._started.set()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime that exits while waiting in invocation/next resets its connection: expected.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _trace_id() -> str:
    return (f"Root=1-{int(time.time()):08x}-{random.getrandbits(96):024x};"
            f"Parent={random.getrandbits(64):016x};Sampled=0")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY the second waits for the
    # peer's delayed ACK (~40 ms per exchange).
    disable_nagle_algorithm = True
    double: RuntimeAPIDouble

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _chunked(self) -> bool:
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def _read_body(self) -> bytes:
        if self._chunked():
            return b"".join(self._read_chunks({}))
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunks(self, trailers: dict[str, str]) -> Iterator[bytes]:
        """Chunked transfer coding (RFC 9112 §7.1), trailers into `trailers` (names lower-cased)."""
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("connection closed inside a chunked body")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:
                    t = self.rfile.readline(65537)
                    if t in (b"\r\n", b"\n", b""):
                        return
                    name, _, value = t.decode("latin-1").partition(":")
                    trailers[name.strip().lower()] = value.strip()
            data = self.rfile.read(size)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise ConnectionError("chunk not followed by CRLF")
            yield data


def _runtime_handler(double: RuntimeAPIDouble) -> type[_Handler]:
    class RuntimeHandler(_Handler):
        def do_GET(self) -> None:
            if self.path != f"{API}/invocation/next":
                return self._send_json(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})
            inv = double._next()
            if inv is None:
                return self._send_json(500, {"errorMessage": "shutting down", "errorType": "ServiceException"})
            self._send(200, inv.event, {
                "Lambda-Runtime-Aws-Request-Id": inv.id,
                "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                "Lambda-Runtime-Trace-Id": _trace_id(),
            })

        def do_POST(self) -> None:
            parts = self.path.split("/")
            # ['', '2018-06-01', 'runtime', 'invocation', id, 'response'|'error'] or [.., 'init', 'error']
            if self.path == f"{API}/init/error":
                body = self._read_body()
                with double._polled:
                    double.init_errors.append((_json_or_text(body),
                                               self.headers.get("Lambda-Runtime-Function-Error-Type")))
                    double._polled.notify_all()
                return self._send_json(202, {"status": "OK"})
            if len(parts) != 6 or "/".join(parts[:4]) != f"{API}/invocation" or parts[5] not in ("response", "error"):
                self._read_body()
                return self._send_json(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})
            inv = double._find_open(unquote(parts[4]))
            if inv is None:
                self._read_body()
                return self._send_json(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
            if parts[5] == "error":
                body = self._read_body()
                inv.error = _json_or_text(body)
                inv.error_type_header = self.headers.get("Lambda-Runtime-Function-Error-Type")
                double._finish(inv, "error")
                return self._send_json(202, {"status": "OK"})
            inv.content_type = self.headers.get("Content-Type")
            inv.request_headers = {k.lower(): v for k, v in self.headers.items()}
            streaming = (self.headers.get("Lambda-Runtime-Function-Response-Mode") or "").lower() == "streaming"
            if streaming:
                if not self._chunked():
                    self._read_body()
                    return self._send_json(400, {"errorMessage": "streaming responses must be chunked",
                                                 "errorType": "InvalidRequest"})
                inv.streamed = True
                collected = bytearray()
                for chunk in self._read_chunks(inv.trailers):
                    collected += chunk
                    inv._started.set()
                    inv._chunks.put(chunk)
                inv.payload = bytes(collected)
                double._finish(inv, "error" if "lambda-runtime-function-error-type" in inv.trailers else "response")
                if inv.outcome == "error":
                    inv.error = inv.stream_error
                    inv.error_type_header = inv.trailers.get("lambda-runtime-function-error-type")
                return self._send_json(202, {"status": "OK"})
            body = self._read_body()
            if len(body) > MAX_BUFFERED:
                inv.rejected.append(413)
                return self._send_json(413, {
                    "errorMessage": f"Exceeded maximum allowed payload size ({MAX_BUFFERED} bytes).",
                    "errorType": "RequestEntityTooLarge"})
            inv.payload = body
            inv._chunks.put(body)
            double._finish(inv, "response")
            self._send_json(202, {"status": "OK"})

    return RuntimeHandler


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def function_url_event(method: str, raw_path: str, raw_query: str, headers: list[tuple[str, str]],
                       body: bytes, source_ip: str = "127.0.0.1") -> dict[str, Any]:
    """A payload 2.0 event as a Function URL builds it: lower-cased header names, repeated headers
    and query values joined by commas, cookies split out, non-text bodies base64, empty keys absent."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    params: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        params[k] = f"{params[k]},{v}" if k in params else v
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous", "apiId": URL_ID,
            "domainName": f"{URL_ID}.lambda-url.us-east-1.on.aws", "domainPrefix": URL_ID,
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": joined.get("user-agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if body:
        ctype = joined.get("content-type", "").lower()
        if any(t in ctype for t in TEXT_TYPES):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def _front_handler(double: RuntimeAPIDouble) -> type[_Handler]:
    class FrontHandler(_Handler):
        def _any(self) -> None:
            body = self._read_body()
            if self.command == "POST" and self.path == "/2015-03-31/functions/function/invocations":
                return self._raw_invoke(body)
            path, _, query = self.path.partition("?")
            event = function_url_event(self.command, path, query, list(self.headers.items()), body,
                                       self.client_address[0])
            encoded = json.dumps(event).encode()
            if len(encoded) > MAX_REQUEST:
                return self._send_json(413, {"Message": f"Request must be smaller than {MAX_REQUEST} bytes for "
                                                        "the InvokeFunction operation"})
            inv = double.invoke(encoded)
            self._answer_http(inv)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_HEAD = _any

        def _wait_start(self, inv: Invocation) -> bool:
            grace = 2.0
            remaining = (inv.deadline_ms - time.time() * 1000) / 1000 + grace
            return inv.wait_started(max(remaining, 0.1))

        def _raw_invoke(self, body: bytes) -> None:
            inv = double.invoke(body)
            if not self._wait_start(inv):
                return self._send_json(502, {"errorMessage": "Task timed out", "errorType": "Sandbox.Timedout"})
            inv.wait(60)
            if inv.outcome == "error":
                return self._send_json(200, inv.error, {"X-Amz-Function-Error": "Unhandled"})
            self._send(200, inv.payload)

        def _answer_http(self, inv: Invocation) -> None:
            if not self._wait_start(inv):
                return self._send_json(502, {"Message": "Internal Server Error"},
                                       {"x-amzn-ErrorType": "Sandbox.Timedout"})
            if inv.streamed or not inv.done:
                return self._relay_stream(inv)
            if inv.outcome == "error":
                return self._send_json(502, {"Message": "Internal Server Error"},
                                       {"x-amzn-ErrorType": str((inv.error or {}).get("errorType", "Unhandled"))})
            try:
                payload = json.loads(inv.payload)
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or "statusCode" not in payload:
                return self._send(200, inv.payload)
            body = payload.get("body") or ""
            data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
            self.send_response(int(payload["statusCode"]))
            for k, v in (payload.get("headers") or {}).items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            for c in payload.get("cookies") or []:
                self.send_header("Set-Cookie", c)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _relay_stream(self, inv: Invocation) -> None:
            chunks = inv.chunks(timeout=60)
            integration = (inv.content_type or "").lower().startswith(STREAMING_CONTENT_TYPE)
            status, headers, cookies, first = 200, {"content-type": inv.content_type or "application/octet-stream"}, [], b""
            if integration:
                buffered = bytearray()
                for chunk in chunks:
                    buffered += chunk
                    mark = buffered.find(b"\0" * 8)
                    if mark >= 0:
                        prelude = json.loads(buffered[:mark])
                        status = int(prelude.get("statusCode", 200))
                        headers = prelude.get("headers") or {}
                        cookies = prelude.get("cookies") or []
                        first = bytes(buffered[mark + 8:])
                        break
                else:
                    inv.wait(5)
                    return self._send_json(502, {"Message": "Internal Server Error"},
                                           {"x-amzn-ErrorType": "Runtime.InvalidStreamingPrelude"})
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            for c in cookies:
                self.send_header("Set-Cookie", c)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                if first:
                    self._write_chunk(first)
                for chunk in chunks:
                    self._write_chunk(chunk)
                inv.wait(5)
                if inv.outcome == "error":
                    # A failure after the status went out: cut the response short, as the client
                    # would see it (no terminating chunk).
                    self.close_connection = True
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _write_chunk(self, data: bytes) -> None:
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

    return FrontHandler
