"""A real clickhouse-server (Debian's 18.16 package) for the e2e tests, after ../shared/BACKENDS.md §5.

The server runs in the foreground from a temporary config on free loopback ports and is stopped by
PID. Users:
  default      no password, loopback only — the tests seed data and check it through this one
  <name>       password-protected, by default with an ordinary (writable) profile: whatever keeps the
               plugin read-only is then the plugin's doing (readonly=1 on every request), not the account's;
               profiles `readonly1` / `readonly2` set the server's readonly setting to 1 / 2
When clickhouse-server is not installed the fixture FAILS (`.ci/run` installs it); it never skips.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest

from conftest import free_port

SERVER_BIN = "/usr/sbin/clickhouse-server"


class ClickHouseServer:
    def __init__(self, users: dict[str, str], profiles: dict[str, str] | None = None):
        """`users`: name → password of the extra users; `profiles`: name → profile (default `default`)."""
        if shutil.which("clickhouse-server") is None and not Path(SERVER_BIN).exists():
            pytest.fail("clickhouse-server not installed: apt-get install -y --no-install-recommends clickhouse-server "
                        "clickhouse-client (.ci/run does it)", pytrace=False)
        self.binary = shutil.which("clickhouse-server") or SERVER_BIN
        self.work = Path(tempfile.mkdtemp(prefix="chfix-"))
        for d in ("data", "tmp", "user_files", "format_schemas", "log"):
            (self.work / d).mkdir()
        self._write_users(users, profiles or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._start()

    # -- configuration ---------------------------------------------------------------------------
    def _write_users(self, users: dict[str, str], profiles: dict[str, str]) -> None:
        def user(name: str, password: str) -> str:
            return (f"<{name}><password>{escape(password)}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
                    f"<profile>{profiles.get(name, 'default')}</profile><quota>default</quota></{name}>")
        entries = "".join(user(n, p) for n, p in {"default": "", **users}.items())
        (self.work / "users.xml").write_text(
            '<?xml version="1.0"?>\n<yandex>\n'
            "  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default>"
            "<readonly1><readonly>1</readonly></readonly1><readonly2><readonly>2</readonly></readonly2></profiles>\n"
            f"  <users>{entries}</users>\n"
            "  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>"
            "<result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>"
            "</default></quotas>\n</yandex>\n")

    def _write_config(self, http_port: int, tcp_port: int) -> Path:
        w = self.work
        path = w / "config.xml"
        path.write_text(f"""<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><log>{w}/log/server.log</log><errorlog>{w}/log/err.log</errorlog><size>10M</size><count>2</count></logger>
  <http_port>{http_port}</http_port><tcp_port>{tcp_port}</tcp_port><listen_host>127.0.0.1</listen_host>
  <path>{w}/data/</path><tmp_path>{w}/tmp/</tmp_path><user_files_path>{w}/user_files/</user_files_path>
  <format_schema_path>{w}/format_schemas/</format_schema_path><users_config>{w}/users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size><uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries><timezone>UTC</timezone>
</yandex>
""")
        return path

    # -- lifecycle -------------------------------------------------------------------------------
    def _start(self) -> None:
        log = self.work / "stdout.log"
        for _attempt in range(3):
            self.port = free_port()
            config = self._write_config(self.port, free_port())
            with open(log, "ab") as out:
                self.proc = subprocess.Popen([self.binary, f"--config-file={config}"], stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=subprocess.STDOUT, cwd=self.work)
            (self.work / "ch.pid").write_text(str(self.proc.pid))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if httpx.get(self.url + "/ping", timeout=1.0).text == "Ok.\n":
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            output = log.read_text(errors="replace") + self._errlog()
            self.stop()
            if "Address already in use" not in output:
                break
        pytest.fail(f"clickhouse-server did not start:\n{output[-3000:]}", pytrace=False)

    def _errlog(self) -> str:
        try:
            return (self.work / "log" / "err.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- direct access (as `default`) -------------------------------------------------------------
    def execute(self, sql: str) -> str:
        """Runs `sql` as the unrestricted `default` user; fails the test on an error."""
        r = httpx.post(self.url + "/", content=sql.encode(), timeout=30.0)
        if r.status_code != 200:
            pytest.fail(f"ClickHouse refused {sql[:200]!r}: HTTP {r.status_code} {r.text[:500]}", pytrace=False)
        return r.text

    def scalar(self, sql: str) -> str:
        return self.execute(sql + " FORMAT TabSeparated").strip()


# -------------------------------------------------------------------------------------------------
# EXPLAIN arrived in ClickHouse 20.6, so the 18.16 server above cannot show the plugin's EXPLAIN path.
# `ExplainFront` stands in front of it as a newer server: it forwards every request unchanged except
# `SELECT version()` and `EXPLAIN <kind>` of one known query, which it answers with what ClickHouse
# 26.9.2.1 answered for that query on the same seeded `shop.orders`. Those two are first sent
# upstream as `SELECT 1` with the same URL settings and headers, so credentials and settings are
# still checked by the real server. It records every request (`requests`), so tests can also see
# exactly what the plugin sent.
# Recorded with chdb 4.4.0 (ClickHouse 26.9.2.1 in-process): `s = chdb.session.Session()`, the
# fixture's CREATE DATABASE/TABLE and INSERT statements, `USE shop`, then for each kind
# `s.query(f"EXPLAIN {kind}\n{RECORDED_QUERY}", "JSONCompact")`.

RECORDED_VERSION = "26.9.2.1"
RECORDED_QUERY = "SELECT customer, sum(amount) AS total FROM orders WHERE id > 1 GROUP BY customer ORDER BY total DESC"
RECORDED_EXPLAIN: dict[str, list[str]] = {
    "PLAN": [
        "Output: customer, sum(amount)", "", "Sorting (Sorting for ORDER BY)", "│  Sort description: sum(amount) DESC",
        "└──Aggregating", "   │  Keys: customer", "   │  Aggregates: sum(amount)", "   │  Skip merging: 0",
        "   └──ReadFromMergeTree (shop.orders)", "         Read type: Default", "         Parts: 2 | Granules: 2",
        "         Output: customer, amount", "         Prewhere filter", "         Prewhere filter column:  id > 1"],
    # One row holding the formatted query.
    "SYNTAX": ["SELECT\n    customer,\n    sum(amount) AS total\nFROM orders\nWHERE greater(id, 1)\nGROUP BY customer\n"
               "ORDER BY total DESC"],
    "PIPELINE": [
        "(Expression)", "ExpressionTransform", "  (Sorting)", "  MergingSortedTransform 2 → 1", "    MergeSortingTransform × 2",
        "      LimitsCheckingTransform × 2", "        PartialSortingTransform × 2", "          (Expression)",
        "          ExpressionTransform × 2", "            (Aggregating)", "            Resize 2 → 2",
        "              AggregatingTransform × 2", "                (Expression)", "                ExpressionTransform × 2",
        "                  (Expression)", "                  ExpressionTransform × 2", "                    (ReadFromMergeTree)",
        "                    MergeTreeSelect(pool: ReadPool, algorithm: Thread) × 2 0 → 1"],
}


@dataclass
class SeenRequest:
    target: str
    headers: dict[str, str]
    body: str


class ExplainFront:
    def __init__(self, upstream: str):
        self.upstream = upstream
        self.requests: list[SeenRequest] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                front.requests.append(SeenRequest(self.path, headers, body))
                status, content_type, payload = front.answer(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _forward(self, target: str, headers: dict[str, str], body: str) -> tuple[int, str, bytes]:
        keep = {k: v for k, v in headers.items() if k.startswith("x-clickhouse-") or k == "content-type"}
        r = httpx.post(self.upstream + target, content=body.encode(), headers=keep, timeout=60.0)
        return r.status_code, r.headers.get("content-type", "text/plain"), r.content

    def answer(self, target: str, headers: dict[str, str], body: str) -> tuple[int, str, bytes]:
        kind, _, query = body.partition("\n")
        if body.strip() == "SELECT version()":
            rows, column = [[RECORDED_VERSION]], "version()"
        elif kind.startswith("EXPLAIN ") and kind.split()[1] in RECORDED_EXPLAIN and query == RECORDED_QUERY:
            rows, column = [[line] for line in RECORDED_EXPLAIN[kind.split()[1]]], "explain"
        elif kind.startswith("EXPLAIN"):
            return 500, "text/plain", b"Code: 1000, e.displayText() = DB::Exception: ExplainFront has no recording for this query"
        else:
            return self._forward(target, headers, body)
        # Same credentials and URL settings as the real server would check.
        status, content_type, payload = self._forward(target, headers, "SELECT 1")
        if status != 200:
            return status, content_type, payload
        document = {"meta": [{"name": column, "type": "String"}], "data": rows, "rows": len(rows),
                    "statistics": {"elapsed": 0.0005, "rows_read": len(rows), "bytes_read": 0}}
        return 200, "application/json; charset=UTF-8", json.dumps(document, indent="\t").encode()
