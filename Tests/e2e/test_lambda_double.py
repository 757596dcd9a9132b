"""The Runtime API double (Tests/lambda_double) checked with the official `awslambdaric` (PyPI)
running a tiny Python handler: if the real client works against it, the double speaks the contract
the host's runtime loop is tested against."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lambda_double import RuntimeAPIDouble  # noqa: E402

HANDLER_DIR = Path(__file__).resolve().parents[1] / "lambda_double"


def start_ric(double: RuntimeAPIDouble, workroot: Path, **env: str) -> subprocess.Popen[bytes]:
    log = open(workroot / f"ric-{time.monotonic_ns()}.log", "ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", "ric_handler.handler"], cwd=HANDLER_DIR, stdout=log, stderr=log,
            env={**os.environ, "AWS_LAMBDA_RUNTIME_API": double.address, "LAMBDA_TASK_ROOT": str(HANDLER_DIR),
                 "_HANDLER": "ric_handler.handler", "PYTHONPATH": str(HANDLER_DIR), **env})
    finally:
        log.close()


@pytest.fixture
def ric(workroot: Path) -> Iterator[RuntimeAPIDouble]:
    double = RuntimeAPIDouble().start()
    proc = start_ric(double, workroot)
    try:
        double.wait_polling(30)
        yield double
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        double.stop()


def test_next_response_and_context(ric: RuntimeAPIDouble) -> None:
    inv = ric.invoke({"op": "echo", "n": 1}, timeout_ms=5000).wait(30)
    assert inv.outcome == "response" and not inv.streamed
    answer = inv.json()
    assert answer["echo"] == {"op": "echo", "n": 1}
    assert answer["request_id"] == inv.id
    assert answer["function_arn"].startswith("arn:aws:lambda:")
    # The deadline header reached the client's context.
    assert 0 < answer["remaining_ms"] <= 5000


def test_next_blocks_until_an_event_is_queued(ric: RuntimeAPIDouble) -> None:
    time.sleep(0.5)  # the client sits in invocation/next meanwhile
    inv = ric.invoke({"op": "echo", "late": True}).wait(30)
    assert inv.outcome == "response" and inv.json()["echo"]["late"] is True
    assert inv.delivered_at is not None and inv.delivered_at - inv.queued_at < 0.5


def test_handler_error_goes_to_invocation_error_and_the_client_goes_on(ric: RuntimeAPIDouble) -> None:
    inv = ric.invoke({"op": "fail", "why": "test"}).wait(30)
    assert inv.outcome == "error"
    assert inv.error["errorType"] == "ValueError"
    assert "handler failed on purpose: test" in inv.error["errorMessage"]
    assert isinstance(inv.error.get("stackTrace"), list)
    assert ric.invoke({"op": "echo"}).wait(30).outcome == "response"


def test_oversize_buffered_response_is_refused_with_413(ric: RuntimeAPIDouble) -> None:
    inv = ric.invoke({"op": "big"})
    deadline = time.monotonic() + 30
    while not inv.rejected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert inv.rejected == [413], "the double must refuse buffered payloads over 6 MB"
    # No payload was accepted (awslambdaric gives up on the invocation after a 413).
    assert inv.outcome != "response" and inv.payload == b""


def test_unknown_request_id_is_400() -> None:
    with RuntimeAPIDouble() as double:
        r = httpx.post(f"http://{double.address}/2018-06-01/runtime/invocation/nope/response", content=b"{}")
        assert r.status_code == 400 and r.json()["errorType"] == "InvalidRequestID"
        r = httpx.post(f"http://{double.address}/2018-06-01/runtime/invocation/nope/error", content=b"{}")
        assert r.status_code == 400


def test_rie_invoke_front(ric: RuntimeAPIDouble) -> None:
    r = httpx.post(ric.front_url + "/2015-03-31/functions/function/invocations", json={"op": "echo", "via": "rie"},
                   timeout=30)
    assert r.status_code == 200 and r.json()["echo"]["via"] == "rie"


def test_init_error_is_recorded(workroot: Path) -> None:
    with RuntimeAPIDouble() as double:
        proc = start_ric(double, workroot, RIC_HANDLER_FAIL_INIT="1")
        try:
            error, error_type = double.wait_init_error(30)
            assert error_type == error["errorType"] == "RuntimeError", (error_type, error)
            assert "init failed on purpose" in json.dumps(error)
        finally:
            proc.kill()
            proc.wait(10)


def test_streamed_response_with_error_trailers_over_raw_http() -> None:
    """awslambdaric does not stream; the streaming half of the contract is exercised byte by byte."""
    import base64
    import socket

    with RuntimeAPIDouble() as double:
        inv = double.invoke({"x": 1})
        host, port = double.address.split(":")
        with socket.create_connection((host, int(port))) as s:
            s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")))
            while len(body) < length:
                body += s.recv(65536)
            assert inv.id.encode() in head and json.loads(body) == {"x": 1}
            error = base64.b64encode(b'{"errorType":"E","errorMessage":"m","stackTrace":[]}')
            s.sendall(b"POST /2018-06-01/runtime/invocation/" + inv.id.encode() + b"/response HTTP/1.1\r\nHost: x\r\n"
                      b"Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
                      b"Content-Type: application/vnd.awslambda.http-integration-response\r\n"
                      b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
                      b"5\r\nhello\r\n")
            first = next(inv.chunks(timeout=10))
            assert first == b"hello" and not inv.done  # chunks are seen as they arrive
            s.sendall(b"0\r\nLambda-Runtime-Function-Error-Type: E\r\nLambda-Runtime-Function-Error-Body: "
                      + error + b"\r\n\r\n")
            reply = s.recv(65536)
            assert reply.startswith(b"HTTP/1.1 202"), reply
        inv.wait(10)
        assert inv.outcome == "error" and inv.streamed and inv.payload == b"hello"
        assert inv.stream_error == {"errorType": "E", "errorMessage": "m", "stackTrace": []}
