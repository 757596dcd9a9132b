"""The ClickHouse plugin through a real mcp-host against a real clickhouse-server (Debian 18.16).

The module's server (clickhouse_backend.py) is seeded with known data:
  shop.orders     MergeTree, 4 rows (UInt64, Array, Nullable, DateTime columns)
  shop.customers  MergeTree, 3 rows (a column comment and a DEFAULT)
  shop.events     MergeTree, 5000 rows n = 0..4999, label = 'event-<n>'
  analytics.*     7 Log tables (for paging): clicks errors events_raw events_rollup pageviews sessions signups
The plugin logs in as `reader`, an account that *may* write: read-only is the plugin's doing.
clickhouse-server must be installed (`.ci/run` installs it): when it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from clickhouse_backend import RECORDED_EXPLAIN, RECORDED_QUERY, RECORDED_VERSION, ClickHouseServer, ExplainFront
from conftest import BUILD_DIR, Host, free_port
from mcpwire import result_of, stateless_call, text_of
from plugin_calls import PluginCaller, err, ok, silent_listener, timed_error

PLUGIN_FILE = "libMCPPluginClickHouse.so"
READER = "reader"
PASSWORD = "pw-S3CRET-7c1d-reader"
WRONG_PASSWORD = "wrong-PASSWORD-99f0"
ANALYST = "analyst"
ANALYST_PASSWORD = "analyst-S3CRET-b2e8"
ANALYTICS = ["clicks", "errors", "events_raw", "events_rollup", "pageviews", "sessions", "signups"]


@pytest.fixture(scope="module")
def ch() -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(users={READER: PASSWORD, ANALYST: ANALYST_PASSWORD, "ro1": PASSWORD, "ro2": PASSWORD},
                              profiles={"ro1": "readonly1", "ro2": "readonly2"})
    for sql in (
        "CREATE DATABASE shop",
        "CREATE DATABASE analytics",
        """CREATE TABLE shop.orders (id UInt32, customer String, amount Float64, created DateTime,
             tags Array(String), note Nullable(String), big UInt64)
           ENGINE = MergeTree PARTITION BY toYYYYMM(created) ORDER BY id""",
        """INSERT INTO shop.orders VALUES
             (1, 'alice', 10.5, '2024-01-01 10:00:00', ['new','web'], NULL, 18446744073709551615),
             (2, 'bob', 20, '2024-01-02 11:00:00', [], 'gift wrap', 1),
             (3, 'alice', 7.25, '2024-02-01 12:00:00', ['web'], NULL, 2),
             (4, 'carol', 100, '2024-02-03 13:00:00', ['phone'], 'tab\\there', 3)""",
        """CREATE TABLE shop.customers (name String COMMENT 'login name', country String DEFAULT 'NL', since Date)
           ENGINE = MergeTree PARTITION BY toYear(since) ORDER BY name""",
        "INSERT INTO shop.customers (name, country, since) VALUES ('alice', 'DE', '2020-05-01'), ('carol', 'FR', '2022-03-04')",
        "INSERT INTO shop.customers (name, since) VALUES ('bob', '2021-01-01')",
        "CREATE TABLE shop.events (n UInt32, label String) ENGINE = MergeTree ORDER BY n",
        "INSERT INTO shop.events SELECT toUInt32(number), concat('event-', toString(number)) FROM system.numbers LIMIT 5000",
        *(f"CREATE TABLE analytics.{t} (id UInt32, at DateTime) ENGINE = Log" for t in ANALYTICS),
    ):
        server.execute(sql)
    yield server
    server.remove()


def _host(workroot: Path, settings: dict[str, Any], env: dict[str, str] | None = None,
          call_timeout_ms: int = 10000, egress: list[str] | None = None) -> Host:
    so = BUILD_DIR / PLUGIN_FILE
    if not so.exists():
        pytest.fail(f"missing build product {so} (swift build --product MCPPluginClickHouse)", pytrace=False)
    tenant: dict[str, Any] = {"id": "local", "plugins": {"clickhouse": settings}}
    if egress is not None:
        tenant["egress"] = egress
    # Debug logging: the most the host ever logs, so the secret checks below see everything.
    config = {"server": {"call_timeout_ms": call_timeout_ms}, "logging": {"level": "debug"}, "tenants": [tenant]}
    return Host(workroot, plugins=(), config=config, env=env, extra_files={PLUGIN_FILE: so.read_bytes()})


class Caller(PluginCaller):
    def __init__(self, host: Host) -> None:
        super().__init__(host, "clickhouse", secrets=(PASSWORD,))


def reader_settings(ch: ClickHouseServer, **extra: Any) -> dict[str, Any]:
    return {"url": ch.url, "user": READER, "password_env": "CH_TEST_PASSWORD", "database": "shop", "max_rows": 100, **extra}


@pytest.fixture(scope="module")
def reader(ch: ClickHouseServer, workroot: Path) -> Iterator[Caller]:
    c = Caller(_host(workroot, reader_settings(ch), env={"CH_TEST_PASSWORD": PASSWORD}))
    yield c
    c.close()
    # Whatever ran in this module: the password never reached a result or a log line.
    assert not c.results or '"outbound request"' in c.host.logs()  # debug logs were on
    assert PASSWORD not in json.dumps(c.results)
    assert PASSWORD not in c.host.logs() and PASSWORD not in c.host.stdout()


# ------------------------------------------------------------------------------- manifest ----

def test_tools_are_listed_read_only_with_output_schemas(reader: Caller) -> None:
    tools = {t["name"]: t for t in reader.tools() if t["name"].startswith("clickhouse.")}
    assert set(tools) == {f"clickhouse.{n}" for n in (
        "run_select_query", "list_databases", "list_tables", "get_table_schema", "explain_query")}
    for t in tools.values():
        assert t["annotations"] == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True,
                                    "openWorldHint": False}, t
        assert t["outputSchema"]["type"] == "object", t


# ------------------------------------------------------------------------- run_select_query ----

def test_select_exact_rows_columns_and_text(reader: Caller) -> None:
    r = reader.call("run_select_query", {"query": "SELECT id, customer, amount FROM orders ORDER BY id"})
    sc = ok(r)
    assert sc["columns"] == [{"name": "id", "type": "UInt32"}, {"name": "customer", "type": "String"},
                             {"name": "amount", "type": "Float64"}]
    assert sc["rows"] == [[1, "alice", 10.5], [2, "bob", 20], [3, "alice", 7.25], [4, "carol", 100]]
    assert sc["row_count"] == 4 and sc["truncated"] is False and "truncated_by" not in sc
    assert sc["max_rows"] == 100 and sc["max_result_bytes"] == 1048576
    assert sc["statistics"]["rows_read"] == 4
    lines = text_of(r).splitlines()
    assert lines[:5] == ["id UInt32\tcustomer String\tamount Float64", "1\talice\t10.5", "2\tbob\t20",
                         "3\talice\t7.25", "4\tcarol\t100"]
    assert lines[5].startswith("4 rows, 4 rows read in "), lines


def test_select_types_keep_their_values(reader: Caller) -> None:
    r = reader.call("run_select_query", {"query": "SELECT big, tags, note, created FROM orders WHERE id IN (1, 4) ORDER BY id"})
    sc = ok(r)
    assert [c["type"] for c in sc["columns"]] == ["UInt64", "Array(String)", "Nullable(String)", "DateTime"]
    # UInt64 stays exact (a string), NULL is null, arrays are arrays.
    assert sc["rows"] == [["18446744073709551615", ["new", "web"], None, "2024-01-01 10:00:00"],
                          ["3", ["phone"], "tab\there", "2024-02-03 13:00:00"]]
    assert "18446744073709551615\t['new','web']\tNULL\t2024-01-01 10:00:00" in text_of(r)
    assert "3\t['phone']\ttab\\there\t2024-02-03 13:00:00" in text_of(r)
    # Bytes that are not UTF-8 (a String is bytes) become U+FFFD instead of breaking the result.
    sc = ok(reader.call("run_select_query", {"query": "SELECT unhex('ff41') AS raw, toFixedString('ab', 3) AS fixed"}))
    assert sc["rows"] == [["\ufffdA", "ab\u0000"]]


def test_select_json_escapes_unicode_and_numbers_survive(reader: Caller) -> None:
    sc = ok(reader.call("run_select_query", {"query": (
        r"SELECT 'q\" b\\ s/ t\t n\n c\x01' AS s, 'ü€😀' AS u, -0.5 AS neg, 1e-7 AS tiny, 1e300 AS huge, "
        "toInt8(-128) AS i8, [[1, 2], [3]] AS nested, (1, 'x') AS tup, [] AS empty")}))
    assert sc["rows"] == [['q" b\\ s/ t\t n\n c\x01', "ü€😀", -0.5, 1e-7, 1e300, -128, [[1, 2], [3]], [1, "x"], []]]


def test_select_aggregate_and_database_argument(reader: Caller) -> None:
    sc = ok(reader.call("run_select_query", {
        "query": "SELECT customer, sum(amount) AS total, count() AS n FROM orders GROUP BY customer ORDER BY customer"}))
    assert sc["rows"] == [["alice", 17.75, "2"], ["bob", 20, "1"], ["carol", 100, "1"]]
    sc = ok(reader.call("run_select_query", {"query": "SELECT name FROM system.tables WHERE database = currentDatabase() "
                                                      "ORDER BY name", "database": "analytics"}))
    assert [row[0] for row in sc["rows"]] == ANALYTICS
    # Comments, parentheses and WITH in front of a SELECT are fine.
    sc = ok(reader.call("run_select_query", {"query": "-- total\n/* of all */ (WITH 2 AS k SELECT sum(amount) * k FROM orders)"}))
    assert sc["rows"] == [[275.5]]
    # SHOW and DESCRIBE are read-only statements too.
    assert ok(reader.call("run_select_query", {"query": "SHOW TABLES"}))["rows"] == [["customers"], ["events"], ["orders"]]
    assert ok(reader.call("run_select_query", {"query": "DESCRIBE TABLE customers"}))["rows"][0][:2] == ["name", "String"]


def test_row_cap_truncates_and_labels(reader: Caller) -> None:
    # The tenant's cap (max_rows: 100) ...
    r = reader.call("run_select_query", {"query": "SELECT n FROM events ORDER BY n"})
    sc = ok(r)
    assert sc["row_count"] == 100 and sc["rows"] == [[i] for i in range(100)]
    assert sc["truncated"] is True and sc["truncated_by"] == "max_rows"
    assert "100 rows (TRUNCATED: the query returns more than max_rows=100" in text_of(r)
    # ... a smaller cap per call ...
    sc = ok(reader.call("run_select_query", {"query": "SELECT n FROM events ORDER BY n DESC", "max_rows": 3}))
    assert sc["rows"] == [[4999], [4998], [4997]] and sc["truncated"] is True and sc["max_rows"] == 3
    # ... stopped by the server too: an endless table ends after one block of reading.
    t0 = time.monotonic()
    sc = ok(reader.call("run_select_query", {"query": "SELECT number FROM system.numbers"}))
    assert sc["rows"][-1] == ["99"] and sc["truncated"] is True and sc["statistics"]["rows_read"] <= 3 * 8192, sc["statistics"]
    assert time.monotonic() - t0 < 2.0
    # ... and exactly as many rows as the cap is not truncated.
    sc = ok(reader.call("run_select_query", {"query": "SELECT n FROM events ORDER BY n LIMIT 3", "max_rows": 3}))
    assert sc["rows"] == [[0], [1], [2]] and sc["truncated"] is False


def test_byte_cap_truncates_and_labels(ch: ClickHouseServer, workroot: Path) -> None:
    c = Caller(_host(workroot, reader_settings(ch, max_result_bytes=1024, max_rows=10000),
                     env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        r = c.call("run_select_query", {"query": "SELECT n, label FROM events ORDER BY n"})
        sc = ok(r)
        assert sc["truncated"] is True and sc["truncated_by"] == "max_result_bytes"
        # Each row [n,"event-n"] is ~20 bytes of JSON: dozens of rows fit, not hundreds.
        assert 20 < sc["row_count"] < 80, sc["row_count"]
        assert sc["rows"] == [[i, f"event-{i}"] for i in range(sc["row_count"])]
        assert len(json.dumps(sc["rows"], separators=(",", ":"))) <= 1024
        assert "(TRUNCATED: more rows would exceed max_result_bytes=1024" in text_of(r)
    finally:
        c.close()


# -------------------------------------------------------------------------------- read-only ----

def test_writes_are_refused_and_data_is_unchanged(reader: Caller, ch: ClickHouseServer) -> None:
    before = ch.scalar("SELECT count(), sum(amount) FROM shop.orders")
    for statement in ("INSERT INTO orders (id, customer) VALUES (99, 'mallory')",
                      "  /* hi */ DROP TABLE orders",
                      "CREATE TABLE shop.evil (a UInt8) ENGINE = Memory",
                      "ALTER TABLE orders DELETE WHERE 1",
                      "TRUNCATE TABLE orders"):
        msg = err(reader.call("run_select_query", {"query": statement}))
        keyword = statement.split("*/")[-1].split()[0].upper()
        assert f"'query': only read-only statements run here" in msg and f"{keyword} statements are refused" in msg, msg
    # What gets past the client-side check meets the server's readonly=1: lifting it, or the caps,
    # and table functions are refused by ClickHouse itself.
    msg = err(reader.call("run_select_query", {"query": "SELECT count() FROM orders SETTINGS readonly = 0"}))
    assert "refused it in read-only mode" in msg and "Code: 164" in msg, msg
    msg = err(reader.call("run_select_query", {"query": "SELECT n FROM events SETTINGS max_result_rows = 0"}))
    assert "Code: 164" in msg, msg
    msg = err(reader.call("run_select_query", {"query": "SELECT * FROM numbers(3)"}))
    assert "Code: 164" in msg and "Table functions are forbidden in readonly mode" in msg, msg
    msg = err(reader.call("run_select_query", {"query": "SELECT 1 INTO OUTFILE '/tmp/clickhouse-mcp-test.txt'"}))
    assert "Code: 358" in msg, msg
    assert ch.scalar("SELECT count(), sum(amount) FROM shop.orders") == before == "4\t137.75"
    assert ch.scalar("EXISTS TABLE shop.orders") == "1" and ch.scalar("EXISTS TABLE shop.evil") == "0"


def test_the_settings_sent_make_the_server_refuse_writes(ch: ClickHouseServer, workroot: Path) -> None:
    """Replays writes with the exact URL settings and headers the plugin sent (seen through ExplainFront,
    which forwards other requests unchanged): the server itself refuses them, whatever the client-side check."""
    front = ExplainFront(ch.url)
    c = Caller(_host(workroot, reader_settings(ch, url=front.url), env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        assert ok(c.call("run_select_query", {"query": "SELECT 1 AS one"}))["rows"] == [[1]]
    finally:
        c.close()
        front.close()
    (sent,) = [r for r in front.requests if r.body == "SELECT 1 AS one"]
    headers = {k: v for k, v in sent.headers.items() if k.startswith("x-clickhouse-")}
    before = ch.scalar("SELECT count(), sum(amount) FROM shop.orders")
    for statement in ("INSERT INTO orders (id, customer) VALUES (99, 'mallory')", "DROP TABLE orders",
                      "CREATE TABLE shop.evil (a UInt8) ENGINE = Memory", "ALTER TABLE orders DELETE WHERE 1",
                      "TRUNCATE TABLE orders", "RENAME TABLE orders TO gone", "SET readonly = 0"):
        r = httpx.post(ch.url + sent.target, content=statement.encode(), headers=headers)
        assert r.status_code == 500 and r.text.startswith("Code: 164") and "readonly mode" in r.text, (statement, r.text)
    assert ch.scalar("SELECT count(), sum(amount) FROM shop.orders") == before == "4\t137.75"
    assert ch.scalar("EXISTS TABLE shop.orders") == "1" and ch.scalar("EXISTS TABLE shop.evil") == "0"


def test_the_reader_account_itself_may_write(ch: ClickHouseServer) -> None:
    """So the refusals above are the plugin's doing, not the account's."""
    auth = {"X-ClickHouse-User": READER, "X-ClickHouse-Key": PASSWORD}
    r = httpx.post(ch.url + "/", content=b"CREATE TABLE default.probe (a UInt8) ENGINE = Memory", headers=auth)
    assert r.status_code == 200, r.text
    r = httpx.post(ch.url + "/", content=b"DROP TABLE default.probe", headers=auth)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("user, refusal", [("ro1", "Cannot override setting ("),
                                           ("ro2", "Setting 'readonly' cannot be overrided")])
def test_accounts_with_a_readonly_profile_are_explained(ch: ClickHouseServer, workroot: Path, user: str,
                                                       refusal: str) -> None:
    """The plugin sends readonly=1 and its caps with every query; a profile that sets readonly itself refuses them."""
    c = Caller(_host(workroot, reader_settings(ch, user=user), env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        msg = err(c.call("run_select_query", {"query": "SELECT 1"}))
        assert "Code: 164" in msg and refusal in msg, msg
        assert "use a user whose profile leaves readonly at 0" in msg, msg
    finally:
        c.close()


# ----------------------------------------------------------------------------------- errors ----

def test_syntax_error_returns_clickhouse_message(reader: Caller) -> None:
    msg = err(reader.call("run_select_query", {"query": "SELECT * FROM orders WHERE"}))
    assert "ClickHouse error (HTTP 400): Code: 62" in msg and "Syntax error" in msg, msg
    assert "e.what()" not in msg


def test_unknown_table_and_column_return_clickhouse_message(reader: Caller) -> None:
    msg = err(reader.call("run_select_query", {"query": "SELECT * FROM nope"}))
    assert "Code: 60" in msg and "Table shop.nope doesn't exist" in msg, msg
    msg = err(reader.call("run_select_query", {"query": "SELECT nope FROM orders"}))
    assert "Code: 47" in msg and "nope" in msg, msg
    msg = err(reader.call("run_select_query", {"query": "SELECT 1", "database": "nodb"}))
    assert "ClickHouse error (HTTP 404): Code: 81" in msg and "Database nodb doesn't exist" in msg, msg


def test_error_after_streaming_began_is_reported(ch: ClickHouseServer, workroot: Path) -> None:
    """An exception once the server has sent part of the rows comes in an HTTP 200 body, after them."""
    c = Caller(_host(workroot, reader_settings(ch, max_rows=20000, max_result_bytes=16777216),
                     env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        # Blocks of max_rows + 1 = 20001 rows of ~230 bytes: the first block (4 MB) is flushed
        # with status 200 before the second one throws.
        msg = err(c.call("run_select_query", {"query": "SELECT number, arrayStringConcat(arrayMap(x -> 'abcdefghij', "
                                                       "range(20))) AS s, throwIf(number = 20005) FROM system.numbers"}))
        assert msg.startswith("ClickHouse error: Code: 395") and "throwIf" in msg, msg[:500]
    finally:
        c.close()


def test_format_clause_is_explained(reader: Caller) -> None:
    msg = err(reader.call("run_select_query", {"query": "SELECT 1 FORMAT TabSeparated"}))
    assert "remove any FORMAT clause" in msg, msg


def test_bad_arguments_name_the_field(reader: Caller) -> None:
    assert "query" in err(reader.call("run_select_query", {}))
    assert "'max_rows' must be between 1 and 100" in err(reader.call("run_select_query", {"query": "SELECT 1", "max_rows": 101}))
    assert "max_rows" in err(reader.call("run_select_query", {"query": "SELECT 1", "max_rows": 0}))
    assert "'query' holds no SQL statement" in err(reader.call("run_select_query", {"query": "  -- nothing\n"}))
    assert "limit" in err(reader.call("list_tables", {"limit": 0}))
    assert "table" in err(reader.call("get_table_schema", {}))
    assert "kind" in err(reader.call("explain_query", {"query": "SELECT 1", "kind": "costs"}))
    assert "bogus" in err(reader.call("list_databases", {"bogus": 1}))


def test_timeout_is_enforced_by_the_server(ch: ClickHouseServer, workroot: Path) -> None:
    c = Caller(_host(workroot, reader_settings(ch, timeout_ms=1000), env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        t0 = time.monotonic()
        msg = err(c.call("run_select_query", {"query": "SELECT count() FROM system.numbers"}))
        assert "Code: 159" in msg and "Timeout exceeded" in msg, msg
        assert time.monotonic() - t0 < 4.0
    finally:
        c.close()


def test_unreachable_server_is_an_error_within_the_deadline(workroot: Path) -> None:
    # Connection refused ...
    msg, elapsed = timed_error(Caller(_host(workroot, {"url": f"http://127.0.0.1:{free_port()}"}, call_timeout_ms=3000)),
                               "list_databases")
    assert "ClickHouse is unreachable (127.0.0.1:" in msg, msg
    assert elapsed < 3.0
    # ... and a server that accepts the connection but never answers.
    with silent_listener() as silent:
        msg, elapsed = timed_error(
            Caller(_host(workroot, {"url": f"http://127.0.0.1:{silent.getsockname()[1]}"}, call_timeout_ms=2000)),
            "run_select_query", {"query": "SELECT 1"})
    assert "ClickHouse is unreachable" in msg and "timeout" in msg, msg
    assert elapsed < 2.5, elapsed


def test_egress_allow_list_applies(ch: ClickHouseServer, workroot: Path) -> None:
    c = Caller(_host(workroot, reader_settings(ch), env={"CH_TEST_PASSWORD": PASSWORD}, egress=["clickhouse.internal"]))
    try:
        msg = err(c.call("list_databases"))
        assert "ClickHouse is unreachable" in msg and "egress denied: host 127.0.0.1" in msg, msg
    finally:
        c.close()


# ---------------------------------------------------------------------------------- secrets ----

def test_wrong_password_is_a_clear_error_without_the_password(ch: ClickHouseServer, workroot: Path) -> None:
    c = Caller(_host(workroot, reader_settings(ch), env={"CH_TEST_PASSWORD": WRONG_PASSWORD}))
    try:
        msg = err(c.call("run_select_query", {"query": "SELECT 1"}))
        assert f"ClickHouse authentication failed for user '{READER}' (HTTP 401)" in msg, msg
        assert "Code: 193" in msg and "Wrong password" in msg, msg
        assert "authentication failed" in err(c.call("list_databases"))
    finally:
        c.close()
    everything = json.dumps(c.results) + c.host.logs() + c.host.stdout()
    assert '"outbound request"' in everything and "ClickHouse answered HTTP 401 (code 193)" in everything  # logs were on
    assert WRONG_PASSWORD not in everything and PASSWORD not in everything


def test_password_from_a_file(ch: ClickHouseServer, workroot: Path, tmp_path: Path) -> None:
    secret = tmp_path / "ch-password"
    secret.write_text(PASSWORD + "\n")
    settings = {"url": ch.url, "user": READER, "password_file": str(secret), "database": "shop"}
    c = Caller(_host(workroot, settings))
    try:
        assert ok(c.call("run_select_query", {"query": "SELECT count() FROM orders"}))["rows"] == [["4"]]
    finally:
        c.close()
    assert PASSWORD not in c.host.logs()


@pytest.mark.parametrize("settings, expected", [
    ({"password_env": "NO_SUCH_VAR_CH"}, "NO_SUCH_VAR_CH"),
    ({"password_file": "/nonexistent/ch-password"}, "/nonexistent/ch-password"),
    ({"password_env": "CH_TEST_PASSWORD", "password_file": "/etc/hostname"}, "at most one of 'password_env' and 'password_file'"),
    ({"url": "http://reader:pw@127.0.0.1:1"}, "'url' must not carry credentials"),
    ({"password": "inline-secrets-are-not-accepted"}, "'password'"),  # secrets never inline
    ({"max_rows": 0}, "max_rows"),
])
def test_bad_configuration_refuses_the_plugin(ch: ClickHouseServer, workroot: Path, settings: dict[str, Any],
                                              expected: str) -> None:
    c = Caller(_host(workroot, {"url": ch.url, "user": READER, **settings}, env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        assert not any(t["name"].startswith("clickhouse.") for t in c.tools())
        assert expected in c.host.logs()
    finally:
        c.close()
    assert PASSWORD not in c.host.logs() and "inline-secrets-are-not-accepted" not in c.host.logs()


def test_each_tenant_gets_its_own_server_settings(ch: ClickHouseServer, workroot: Path) -> None:
    """Two API-key tenants, two ClickHouse accounts, default databases and caps; neither sees the other's."""
    so = BUILD_DIR / PLUGIN_FILE
    keys = {"alpha": "key-alpha-0001", "beta": "key-beta-0002"}
    config = {
        "auth": {"mode": "api_key", "header": "x-api-key"}, "logging": {"level": "debug"},
        "tenants": [
            {"id": "alpha", "api_key_sha256": [hashlib.sha256(keys["alpha"].encode()).hexdigest()],
             "plugins": {"clickhouse": reader_settings(ch, max_rows=2)}},
            {"id": "beta", "api_key_sha256": [hashlib.sha256(keys["beta"].encode()).hexdigest()],
             "plugins": {"clickhouse": {"url": ch.url, "user": ANALYST, "password_env": "CH_TEST_ANALYST_PASSWORD",
                                        "database": "analytics"}}}]}
    host = Host(workroot, plugins=(), config=config, extra_files={PLUGIN_FILE: so.read_bytes()},
                env={"CH_TEST_PASSWORD": PASSWORD, "CH_TEST_ANALYST_PASSWORD": ANALYST_PASSWORD})
    results: list[dict[str, Any]] = []
    try:
        with httpx.Client(timeout=30.0) as client:
            def call(tenant: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
                r, _ = stateless_call(client, host.mcp_url, "tools/call", {"name": f"clickhouse.{tool}", "arguments": args},
                                      headers={"x-api-key": keys[tenant]})
                results.append(result_of(r))
                return results[-1]
            who = "SELECT currentDatabase() AS db, n FROM (SELECT arrayJoin([1, 2, 3]) AS n)"
            alpha = ok(call("alpha", "run_select_query", {"query": who}))
            beta = ok(call("beta", "run_select_query", {"query": who}))
            assert alpha["rows"] == [["shop", 1], ["shop", 2]] and alpha["truncated"] is True and alpha["max_rows"] == 2
            assert beta["rows"] == [["analytics", 1], ["analytics", 2], ["analytics", 3]] and beta["max_rows"] == 1000
            assert ok(call("alpha", "list_tables", {"include_columns": False}))["total"] == 3
            assert ok(call("beta", "list_tables", {"include_columns": False}))["total"] == 7
    finally:
        host.stop()
    everything = json.dumps(results) + host.logs()
    assert PASSWORD not in everything and ANALYST_PASSWORD not in everything


# ---------------------------------------------------------------------------------- catalog ----

def test_list_databases(reader: Caller) -> None:
    r = reader.call("list_databases")
    sc = ok(r)
    assert [d["name"] for d in sc["databases"]] == ["analytics", "default", "shop", "system"]
    assert sc["count"] == 4 and all(d["engine"] == "Ordinary" for d in sc["databases"])
    assert text_of(r) == "4 databases: analytics, default, shop, system"


def test_list_tables_with_columns_and_sizes(reader: Caller) -> None:
    r = reader.call("list_tables")
    sc = ok(r)
    assert sc["database"] == "shop" and sc["total"] == 3 and sc["count"] == 3 and "next_cursor" not in sc
    tables = {t["name"]: t for t in sc["tables"]}
    assert list(tables) == ["customers", "events", "orders"]
    assert tables["orders"]["engine"] == "MergeTree" and tables["orders"]["total_rows"] == 4
    assert tables["events"]["total_rows"] == 5000 and tables["events"]["total_bytes"] > 0
    assert [(c["name"], c["type"]) for c in tables["orders"]["columns"]] == [
        ("id", "UInt32"), ("customer", "String"), ("amount", "Float64"), ("created", "DateTime"),
        ("tags", "Array(String)"), ("note", "Nullable(String)"), ("big", "UInt64")]
    assert "orders (MergeTree, 4 rows): id UInt32, customer String, amount Float64" in text_of(r)
    sc = ok(reader.call("list_tables", {"database": "analytics", "include_columns": False}))
    assert sc["tables"][0] == {"name": "clicks", "engine": "Log"}  # no parts: no sizes


def test_list_tables_pages_through_a_database(reader: Caller) -> None:
    seen: list[str] = []
    args: dict[str, Any] = {"database": "analytics", "limit": 3}
    pages = 0
    while True:
        r = reader.call("list_tables", args)
        sc = ok(r)
        pages += 1
        first = 3 * (pages - 1) + 1
        assert text_of(r).startswith(f"analytics: tables {first}–{first + sc['count'] - 1} of 7\n"), text_of(r)
        assert ("more: call again with cursor" in text_of(r)) == ("next_cursor" in sc)
        assert sc["total"] == 7
        seen += [t["name"] for t in sc["tables"]]
        assert all([c["name"] for c in t["columns"]] == ["id", "at"] for t in sc["tables"])
        if "next_cursor" not in sc:
            break
        args = {**args, "cursor": sc["next_cursor"]}
    assert pages == 3 and seen == ANALYTICS
    sc = ok(reader.call("list_tables", {"database": "analytics", "like": "events%"}))
    assert [t["name"] for t in sc["tables"]] == ["events_raw", "events_rollup"] and sc["total"] == 2


def test_list_tables_bad_cursor_and_database(reader: Caller) -> None:
    assert "argument 'cursor': not a cursor" in err(reader.call("list_tables", {"cursor": "garbage!"}))
    first = ok(reader.call("list_tables", {"database": "analytics", "limit": 2}))
    msg = err(reader.call("list_tables", {"database": "shop", "cursor": first["next_cursor"]}))
    assert "argument 'cursor'" in msg and "'analytics'" in msg, msg
    assert "database 'nowhere' does not exist" in err(reader.call("list_tables", {"database": "nowhere"}))
    # A name is a literal, never SQL.
    msg = err(reader.call("list_tables", {"database": "x' OR 1=1 --"}))
    assert "database 'x' OR 1=1 --' does not exist" in msg, msg


def test_get_table_schema(reader: Caller) -> None:
    r = reader.call("get_table_schema", {"table": "customers"})
    sc = ok(r)
    assert sc["database"] == "shop" and sc["table"] == "customers" and sc["engine"] == "MergeTree"
    assert sc["partition_key"] == "toYear(since)" and sc["sorting_key"] == "name" and sc["primary_key"] == "name"
    assert sc["total_rows"] == 3
    assert sc["create_table_query"].startswith("CREATE TABLE shop.customers")
    assert sc["columns"] == [
        {"name": "name", "type": "String", "comment": "login name", "in_primary_key": True, "in_sorting_key": True},
        {"name": "country", "type": "String", "default_kind": "DEFAULT", "default_expression": "'NL'",
         "in_primary_key": False, "in_sorting_key": False},
        {"name": "since", "type": "Date", "in_primary_key": False, "in_sorting_key": False}]
    text = text_of(r)
    assert "  name String [primary key] -- login name" in text and "  country String DEFAULT 'NL'" in text
    assert ok(reader.call("get_table_schema", {"table": "sessions", "database": "analytics"}))["engine"] == "Log"
    assert "table 'nope' does not exist in database 'shop'" in err(reader.call("get_table_schema", {"table": "nope"}))
    assert "database 'nodb' does not exist" in err(reader.call("get_table_schema", {"table": "t", "database": "nodb"}))


# ---------------------------------------------------------------------------------- explain ----

def test_explain_on_a_server_without_explain(reader: Caller) -> None:
    r = reader.call("explain_query", {
        "query": "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer; -- per customer"})
    sc = ok(r)
    assert sc["server_version"] == "18.16.1" and sc["method"] == "DESCRIBE" and sc["explain"] == []
    assert sc["result_columns"] == [{"name": "customer", "type": "String"}, {"name": "total", "type": "Float64"}]
    assert "ClickHouse 18.16.1 has no EXPLAIN (it arrived in 20.6)" in sc["note"]
    assert "result columns: customer String, total Float64" in text_of(r)
    # Analysis errors come back without running anything.
    msg = err(reader.call("explain_query", {"query": "SELECT nope FROM orders"}))
    assert "Code: 47" in msg, msg
    msg = err(reader.call("explain_query", {"query": "SELECT FROM WHERE"}))
    assert "Code: 62" in msg, msg
    msg = err(reader.call("explain_query", {"query": "INSERT INTO orders (id) VALUES (5)"}))
    assert "INSERT statements are refused" in msg, msg


def test_explain_on_a_server_with_explain(ch: ClickHouseServer, workroot: Path) -> None:
    front = ExplainFront(ch.url)
    c = Caller(_host(workroot, reader_settings(ch, url=front.url), env={"CH_TEST_PASSWORD": PASSWORD}))
    try:
        for kind, expected in (("plan", RECORDED_EXPLAIN["PLAN"]), ("syntax", RECORDED_EXPLAIN["SYNTAX"][0].split("\n")),
                               ("pipeline", RECORDED_EXPLAIN["PIPELINE"])):
            r = c.call("explain_query", {"query": f"  {RECORDED_QUERY};\n-- done", "kind": kind})
            sc = ok(r)
            assert sc["server_version"] == RECORDED_VERSION and sc["method"] == f"EXPLAIN {kind.upper()}", sc
            assert sc["explain"] == expected and "note" not in sc
            assert sc["result_columns"] == [{"name": "customer", "type": "String"}, {"name": "total", "type": "Float64"}]
            assert text_of(r).splitlines()[:2] == [f"ClickHouse {RECORDED_VERSION}, EXPLAIN {kind.upper()}", expected[0]]
        assert ok(c.call("explain_query", {"query": RECORDED_QUERY}))["method"] == "EXPLAIN PLAN"
        # What reached the server: the statement cut after its last token, read-only, with credentials in headers.
        explains = [r for r in front.requests if r.body.startswith("EXPLAIN")]
        assert [r.body for r in explains] == [f"EXPLAIN {k}\n{RECORDED_QUERY}" for k in ("PLAN", "SYNTAX", "PIPELINE", "PLAN")]
        for seen in front.requests:
            assert seen.target.endswith("&readonly=1"), seen.target
            assert seen.headers["x-clickhouse-user"] == READER and seen.headers["x-clickhouse-key"] == PASSWORD
            assert PASSWORD not in seen.target
    finally:
        c.close()
        front.close()
