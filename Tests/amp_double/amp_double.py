"""A test double of Amazon Managed Prometheus (AMP) that verifies AWS SigV4 and forwards to a real Prometheus.

What it follows from AMP's documented API:
  GET  /workspaces                                  ListWorkspaces (control plane): {"workspaces":[...], "nextToken"?}
  GET  /workspaces/{workspaceId}/api/v1/{...}       the Prometheus-compatible query API (data plane)
  Every request must carry a SigV4 `Authorization` header for service "aps" in the double's region;
  errors are 403 with {"message": ...} and `x-amzn-ErrorType` like AWS:
    no Authorization                  -> MissingAuthenticationTokenException "Missing Authentication Token"
    unknown access key / bad token    -> UnrecognizedClientException "The security token included in the request is invalid."
    wrong service or region in scope  -> InvalidSignatureException "Credential should be scoped to correct service: 'aps'. " ...
    x-amz-date more than 5 min off    -> InvalidSignatureException "Signature expired: ..."
    signature mismatch                -> InvalidSignatureException "The request signature we calculated does not match
                                         the signature you provided. ..."
  Unknown workspace -> 404 ResourceNotFoundException.
The signature is recomputed here from the request as received (an implementation independent of the
plugin's Swift signer) with the secret given on the command line.

  python amp_double.py --port P --upstream http://127.0.0.1:9090 --access-key AK --secret-key SK \
      [--session-token T] [--region us-east-1] [--workspace ws-1 --workspace ws-2]
Prints "ready <port>" on stdout when serving.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import hmac
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<ak>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;\-]+),\s*Signature=(?P<sig>[0-9a-f]{64})$")

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


def _uri_encode(s: str) -> str:
    return urllib.parse.quote(s, safe="-_.~")


def canonical_query(raw: str) -> str:
    pairs = []
    for item in raw.split("&"):
        if not item:
            continue
        k, _, v = item.partition("=")
        pairs.append((_uri_encode(urllib.parse.unquote(k)), _uri_encode(urllib.parse.unquote(v))))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_path(raw: str) -> str:
    segments = []
    for seg in raw.split("/")[1:] if raw.startswith("/") else raw.split("/"):
        if seg == ".":
            continue
        if seg == "..":
            if segments:
                segments.pop()
            continue
        segments.append(_uri_encode(urllib.parse.unquote(seg)))
    path = "/" + "/".join(segments)
    return path


def signature(secret: str, method: str, path: str, query: str, headers: list[tuple[str, str]], signed: list[str],
              body: bytes, amz_date: str, region: str, service: str) -> tuple[str, str]:
    """(signature hex, canonical request) for a request as received."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(" ".join(value.strip().split()))
    canon_headers = "".join(f"{n}:{','.join(values.get(n, []))}\n" for n in signed)
    creq = "\n".join([method, canonical_path(path), canonical_query(query), canon_headers, ";".join(signed),
                      hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest(), creq


class Double:
    def __init__(self, upstream: str, access_key: str, secret_key: str, session_token: str | None, region: str,
                 workspaces: list[str]):
        self.upstream = upstream.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token
        self.region = region
        self.workspaces = workspaces


def make_handler(double: Double):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # one line per request on stderr, never headers
            sys.stderr.write("amp-double: " + (fmt % args) + "\n")

        def _send(self, status: int, body: bytes, content_type: str = "application/json",
                  error_type: str | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(body)

        def _aws_error(self, status: int, error_type: str, message: str) -> None:
            self._send(status, json.dumps({"message": message}).encode(), error_type=f"{error_type}:http://internal.amazon.com/coral/com.amazon.coral.service/")

        def _verify(self, body: bytes) -> bool:
            auth = self.headers.get("authorization")
            if not auth:
                self._aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
                return False
            m = _AUTH_RE.match(auth.strip())
            if not m:
                self._aws_error(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.")
                return False
            if m["ak"] != double.access_key:
                self._aws_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
                return False
            if m["service"] != "aps" or m["region"] != double.region:
                self._aws_error(403, "InvalidSignatureException",
                                f"Credential should be scoped to a valid region and to correct service: 'aps'. ")
                return False
            signed = m["signed"].split(";")
            if "host" not in signed or "x-amz-date" not in signed:
                self._aws_error(403, "InvalidSignatureException", "'Host' and 'X-Amz-Date' must be signed headers.")
                return False
            if double.session_token is not None:
                if self.headers.get("x-amz-security-token") != double.session_token or "x-amz-security-token" not in signed:
                    self._aws_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
                    return False
            amz_date = self.headers.get("x-amz-date", "")
            try:
                when = _dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.timezone.utc)
            except ValueError:
                self._aws_error(403, "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'.")
                return False
            now = _dt.datetime.now(_dt.timezone.utc)
            if abs((now - when).total_seconds()) > 300 or amz_date[:8] != m["date"]:
                self._aws_error(403, "InvalidSignatureException", f"Signature expired: {amz_date} is now earlier or later than 5 min from now")
                return False
            path, _, query = self.path.partition("?")
            expected, _ = signature(double.secret_key, self.command, path, query, list(self.headers.items()), signed,
                                    body, amz_date, m["region"], m["service"])
            if not hmac.compare_digest(expected, m["sig"]):
                self._aws_error(403, "InvalidSignatureException", SIGNATURE_MISMATCH)
                return False
            return True

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if not self._verify(body):
                return
            path, _, query = self.path.partition("?")
            if path == "/workspaces" and self.command == "GET":
                items = [{"workspaceId": w, "alias": f"alias-{w}", "arn": f"arn:aws:aps:{double.region}:123456789012:workspace/{w}",
                          "status": {"statusCode": "ACTIVE"}, "createdAt": 1700000000.0, "tags": {}} for w in double.workspaces]
                self._send(200, json.dumps({"workspaces": items}).encode())
                return
            m = re.match(r"^/workspaces/([^/]+)(/api/v1/.*)$", path)
            if not m:
                self._aws_error(404, "UnknownOperationException", "Unknown operation")
                return
            if m[1] not in double.workspaces:
                self._aws_error(404, "ResourceNotFoundException", f"Workspace {m[1]} not found")
                return
            url = double.upstream + m[2] + ("?" + query if query else "")
            req = urllib.request.Request(url, data=body or None, method=self.command,
                                         headers={k: v for k, v in self.headers.items() if k.lower() == "content-type"})
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    self._send(resp.status, resp.read(), resp.headers.get("content-type", "application/json"))
            except urllib.error.HTTPError as e:
                self._send(e.code, e.read(), e.headers.get("content-type", "application/json"))
            except OSError as e:
                self._aws_error(503, "ServiceUnavailableException", f"upstream unavailable: {e}")

        do_GET = _handle
        do_POST = _handle

    return Handler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--session-token")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--workspace", action="append", default=[])
    a = p.parse_args()
    double = Double(a.upstream, a.access_key, a.secret_key, a.session_token, a.region, a.workspace or ["ws-test"])
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(double))
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
