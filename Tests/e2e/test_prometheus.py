"""The Prometheus plugin against a real Prometheus (Debian package) holding backfilled, exact data,
and the Amazon Managed Prometheus path through a SigV4-verifying double (Tests/amp_double) that
forwards to that Prometheus.

Data (../shared/BACKENDS.md §1b): from t0 = 1700000000, 241 samples 15 s apart of
  http_requests_total{service="api",code="200"} = 10*i, {code="500"} = i, temperature_celsius{room="lab"} = 20 + i%4.
Prometheus must be installed (`.ci/run` installs it): when it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from conftest import BUILD_DIR, Host, free_port
from mcpwire import text_of
from plugin_calls import PluginCaller, err, ok, silent_listener, timed_error, stop_process, wait_http

PLUGIN_FILE = "libMCPPluginPrometheus.so"
T0 = 1700000000
AK = "AKIDMCPHOSTTEST0001"
SK = "amp-double-secret/0123456789abcdefghijklmnopqrstuv"
TOKEN = "session-token-for-the-amp-double"
WORKSPACE = "ws-11111111-2222-3333-4444-555555555555"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prometheus() -> Iterator[str]:
    """A real Prometheus on a free loopback port, with the §1b data backfilled before start."""
    missing = [b for b in ("prometheus", "promtool") if shutil.which(b) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: apt-get install -y --no-install-recommends prometheus "
                    "(.ci/run does it)", pytrace=False)
    work = Path(tempfile.mkdtemp(prefix="promfix-"))
    lines = ["# HELP http_requests Total HTTP requests.", "# TYPE http_requests counter"]
    for code, inc in (("200", 10), ("500", 1)):
        lines += [f'http_requests_total{{service="api",code="{code}"}} {i * inc} {T0 + i * 15}' for i in range(241)]
    lines += ["# HELP temperature_celsius Synthetic gauge.", "# TYPE temperature_celsius gauge"]
    lines += [f'temperature_celsius{{room="lab"}} {20 + (i % 4)} {T0 + i * 15}' for i in range(241)]
    (work / "synthetic.om").write_text("\n".join(lines + ["# EOF"]) + "\n")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(work / "synthetic.om"), str(work / "data")],
                   check=True, capture_output=True, timeout=120)
    (work / "prometheus.yml").write_text("global: {scrape_interval: 15s}\nscrape_configs: []\n")
    log = work / "prom.log"
    proc = None
    for _attempt in range(3):
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                ["prometheus", f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                 f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        (work / "prom.pid").write_text(str(proc.pid))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(url + "/-/ready", proc, log, "prometheus")
            break
        except pytest.fail.Exception:
            if "address already in use" not in log.read_text(errors="replace"):
                raise
    assert proc is not None
    yield url
    stop_process(proc)
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def amp_double(prometheus: str) -> Iterator[str]:
    work = Path(tempfile.mkdtemp(prefix="ampdouble-"))
    log = work / "double.log"
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "Tests/amp_double/amp_double.py"), "--port", str(port), "--upstream", prometheus,
             "--access-key", AK, "--secret-key", SK, "--session-token", TOKEN, "--region", "eu-west-1",
             "--workspace", WORKSPACE, "--workspace", "ws-other"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/workspaces", proc, log, "amp double")
    yield url
    stop_process(proc)
    shutil.rmtree(work, ignore_errors=True)


def _host(workroot: Path, settings: dict[str, Any], env: dict[str, str] | None = None,
          call_timeout_ms: int = 10000) -> Host:
    so = BUILD_DIR / PLUGIN_FILE
    if not so.exists():
        pytest.fail(f"missing build product {so} (swift build)", pytrace=False)
    config = {"server": {"call_timeout_ms": call_timeout_ms},
              "tenants": [{"id": "local", "plugins": {"prometheus": settings}}]}
    # Only AWS credentials the test chooses: empty values (= unset for the plugin) hide any the
    # environment running the tests may have.
    blank = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    return Host(workroot, plugins=(), config=config, env={**blank, **(env or {})},
                extra_files={PLUGIN_FILE: so.read_bytes()})


class Caller(PluginCaller):
    def __init__(self, host: Host) -> None:
        super().__init__(host, "prometheus", secrets=(SK, TOKEN))


@pytest.fixture(scope="module")
def plain(prometheus: str, workroot: Path) -> Iterator[Caller]:
    c = Caller(_host(workroot, {"url": prometheus}))
    yield c
    c.close()


@pytest.fixture(scope="module")
def amp(amp_double: str, workroot: Path) -> Iterator[Caller]:
    c = Caller(_host(workroot, {"workspace_id": WORKSPACE, "region": "eu-west-1", "endpoint": amp_double},
                     env={"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AWS_SESSION_TOKEN": TOKEN}))
    yield c
    c.close()


def by_code(sc: dict[str, Any]) -> dict[str, Any]:
    return {s["metric"]["code"]: s["value"] for s in sc["result"]}


# ------------------------------------------------------------------------------- manifest ----

def test_tools_are_listed_read_only_with_output_schemas(plain: Caller) -> None:
    tools = {t["name"]: t for t in plain.tools() if t["name"].startswith("prometheus.")}
    assert set(tools) == {f"prometheus.{n}" for n in (
        "execute_query", "execute_range_query", "list_metrics", "get_server_info", "list_label_values", "find_series",
        "get_available_workspaces")}
    for t in tools.values():
        assert t["annotations"]["readOnlyHint"] is True and t["annotations"]["destructiveHint"] is False, t
        assert t["outputSchema"]["type"] == "object", t


# ------------------------------------------------------------------------ plain Prometheus ----

def test_instant_query_exact_values(plain: Caller) -> None:
    r = plain.call("execute_query", {"query": "http_requests_total", "time": "1700000600"})
    sc = ok(r)
    assert sc["resultType"] == "vector"
    assert by_code(sc) == {"200": [1700000600, "400"], "500": [1700000600, "40"]}
    text = text_of(r)
    assert 'http_requests_total{code="200",service="api"} 400 @1700000600' in text
    assert 'http_requests_total{code="500",service="api"} 40 @1700000600' in text


def test_instant_query_rate_and_rfc3339_time(plain: Caller) -> None:
    sc = ok(plain.call("execute_query", {"query": 'rate(http_requests_total{code="200"}[1m])', "time": 1700001800}))
    assert [s["value"] for s in sc["result"]] == [[1700001800, "0.6666666666666666"]]
    # The same instant written as RFC 3339.
    sc = ok(plain.call("execute_query", {"query": "sum by (code)(increase(http_requests_total[5m]))",
                                         "time": "2023-11-14T22:43:20Z"}))
    assert by_code(sc) == {"200": [1700001800, "200"], "500": [1700001800, "20"]}


def test_scalar_result(plain: Caller) -> None:
    r = plain.call("execute_query", {"query": "1 + 2", "time": 1700000000})
    sc = ok(r)
    assert sc == {"resultType": "scalar", "result": [1700000000, "3"]}
    assert text_of(r) == "scalar 3 @1700000000"


def test_range_query_exact_values(plain: Caller) -> None:
    r = plain.call("execute_range_query", {"query": "temperature_celsius", "start": 1700000000, "end": "1700000060",
                                           "step": "15s"})
    sc = ok(r)
    assert sc["resultType"] == "matrix"
    assert sc["result"] == [{"metric": {"__name__": "temperature_celsius", "room": "lab"},
                             "values": [[1700000000, "20"], [1700000015, "21"], [1700000030, "22"], [1700000045, "23"],
                                        [1700000060, "20"]]}]
    assert 'temperature_celsius{room="lab"} [5 points]: 20 @1700000000, 21 @1700000015' in text_of(r)


def test_range_query_with_too_many_points_is_refused(plain: Caller) -> None:
    # 1700000000 .. +11000 s every 1 s = 11,001 points: one too many, refused before asking Prometheus.
    msg = err(plain.call("execute_range_query", {"query": "up", "start": 1700000000, "end": 1700011000, "step": 1}))
    assert "11,001 points" in msg and "11,000" in msg and "step of at least 2s" in msg, msg
    # Exactly 11,000 is allowed.
    sc = ok(plain.call("execute_range_query", {"query": "temperature_celsius", "start": 1700000000, "end": 1700010999,
                                               "step": "1s"}))
    assert sc["resultType"] == "matrix"


def test_bad_arguments_are_tool_errors(plain: Caller) -> None:
    assert "'time'" in err(plain.call("execute_query", {"query": "up", "time": "yesterday"}))
    assert "before 'start'" in err(plain.call("execute_range_query", {"query": "up", "start": 10, "end": 5, "step": 1}))
    assert "'step'" in err(plain.call("execute_range_query", {"query": "up", "start": 1, "end": 5, "step": "fast"}))


def test_bad_promql_returns_prometheus_message(plain: Caller) -> None:
    msg = err(plain.call("execute_query", {"query": "foo(", "time": 1700000000}))
    assert "HTTP 400, bad_data" in msg, msg
    assert 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis' in msg, msg


def test_execution_error_422_returns_prometheus_message(plain: Caller) -> None:
    # Two series with the same labels after dropping the name: Prometheus' own 422 "execution" error.
    msg = err(plain.call("execute_query", {"query": 'label_replace(http_requests_total, "code", "x", "", "")',
                                           "time": 1700000600}))
    assert "HTTP 422, execution" in msg, msg
    assert "duplicate" in msg.lower() or "same labelset" in msg.lower(), msg


def test_query_timeout_503_returns_prometheus_message(plain: Caller) -> None:
    # An evaluation timeout of 1 µs: Prometheus answers 503 {"errorType":"timeout","error":"query timed out in ..."}.
    msg = err(plain.call("execute_query", {"query": "sum(rate(http_requests_total[5m:1s]))", "time": 1700001800,
                                           "timeout": 0.000001}))
    assert "HTTP 503, timeout" in msg and "query timed out in" in msg, msg
    msg = err(plain.call("execute_range_query", {"query": "sum(rate(http_requests_total[5m:1s]))", "start": T0,
                                                 "end": T0 + 3600, "step": 15, "timeout": 0.000001}))
    assert "HTTP 503, timeout" in msg and "query timed out in" in msg, msg


def test_list_metrics(plain: Caller) -> None:
    r = plain.call("list_metrics")
    assert ok(r) == {"metrics": ["http_requests_total", "temperature_celsius"], "count": 2}
    assert text_of(r) == "2 metrics: http_requests_total, temperature_celsius"


def test_list_label_values(plain: Caller) -> None:
    assert ok(plain.call("list_label_values", {"label": "code"})) == {"label": "code", "values": ["200", "500"], "count": 2}
    sc = ok(plain.call("list_label_values", {"label": "room", "match": ["temperature_celsius"],
                                             "start": T0, "end": T0 + 3600}))
    assert sc["values"] == ["lab"]


def test_find_series(plain: Caller) -> None:
    sc = ok(plain.call("find_series", {"match": ["http_requests_total"], "start": T0, "end": T0 + 3600}))
    assert sc["count"] == 2 and sc["truncated"] is False
    assert sorted(s["code"] for s in sc["series"]) == ["200", "500"]
    assert all(s["__name__"] == "http_requests_total" and s["service"] == "api" for s in sc["series"])
    sc = ok(plain.call("find_series", {"match": ['{__name__=~".+"}'], "start": T0, "end": T0 + 3600, "limit": 1}))
    assert sc["count"] == 1 and sc["truncated"] is True


def test_server_info_and_workspaces(plain: Caller, prometheus: str) -> None:
    r = plain.call("get_server_info")
    sc = ok(r)
    assert sc["backend"] == "prometheus" and sc["endpoint"] == prometheus
    assert sc["build"]["version"].startswith("2."), sc
    assert f"prometheus at {prometheus}, version" in text_of(r)
    sc = ok(plain.call("get_available_workspaces"))
    assert sc == {"backend": "prometheus", "workspaces": [
        {"workspace_id": None, "alias": None, "status": None, "url": prometheus, "configured": True}]}


# ---------------------------------------------------------------------- failures, secrets ----

def test_unreachable_prometheus_is_an_error_within_the_deadline(workroot: Path) -> None:
    # A port nobody listens on (connection refused) ...
    msg, elapsed = timed_error(Caller(_host(workroot, {"url": f"http://127.0.0.1:{free_port()}"}, call_timeout_ms=3000)),
                               "execute_query", {"query": "up"})
    assert "Prometheus is unreachable" in msg, msg
    assert elapsed < 3.0
    # ... and one that accepts connections but never answers (timeout before the call deadline).
    with silent_listener() as silent:
        msg, elapsed = timed_error(
            Caller(_host(workroot, {"url": f"http://127.0.0.1:{silent.getsockname()[1]}"}, call_timeout_ms=2000)),
            "execute_query", {"query": "up"})
    assert "unreachable" in msg or "deadline" in msg or "timed out" in msg.lower(), msg
    assert elapsed < 4.0, elapsed


def test_bearer_token_is_sent_and_never_shown(prometheus: str, workroot: Path) -> None:
    secret = "bearer-SECRET-4f9a1c"
    c = Caller(_host(workroot, {"url": prometheus, "bearer_token_env": "PROM_TEST_TOKEN"},
                     env={"PROM_TEST_TOKEN": secret}))
    try:
        assert ok(c.call("execute_query", {"query": "temperature_celsius", "time": T0}))["result"][0]["value"] == [T0, "20"]
        msg = err(c.call("execute_query", {"query": "foo(", "time": T0}))
        assert secret not in msg
    finally:
        c.close()
    assert secret not in c.host.logs()


def test_missing_secret_env_refuses_the_configuration(prometheus: str, workroot: Path) -> None:
    c = Caller(_host(workroot, {"url": prometheus, "basic_auth": {"username": "u", "password_env": "NO_SUCH_VAR_X"}}))
    try:
        tools = [t["name"] for t in c.tools()]
        assert not any(n.startswith("prometheus.") for n in tools)
        assert "NO_SUCH_VAR_X" in c.host.logs()
    finally:
        c.close()


# ---------------------------------------------------------------- Amazon Managed Prometheus ----

def test_amp_double_accepts_aws_published_vector() -> None:
    """The double's verifier reproduces AWS's get-vanilla signature (so it checks SigV4 as AWS does)."""
    sys.path.insert(0, str(REPO / "Tests/amp_double"))
    try:
        import amp_double as d
    finally:
        sys.path.pop(0)
    sig, creq = d.signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "GET", "/", "",
                            [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                            ["host", "x-amz-date"], b"", "20150830T123600Z", "us-east-1", "service")
    assert sig == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    sig, _ = d.signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "GET", "/", "Param1=value2&Param1=Value1",
                         [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                         ["host", "x-amz-date"], b"", "20150830T123600Z", "us-east-1", "service")
    assert sig == "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"


def test_amp_double_refuses_unsigned_requests(amp_double: str) -> None:
    r = httpx.get(f"{amp_double}/workspaces/{WORKSPACE}/api/v1/query", params={"query": "up"})
    assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}


def test_amp_signed_queries_return_exact_values(amp: Caller) -> None:
    sc = ok(amp.call("execute_query", {"query": "http_requests_total", "time": 1700000600}))
    assert by_code(sc) == {"200": [1700000600, "400"], "500": [1700000600, "40"]}
    sc = ok(amp.call("execute_query", {"query": 'rate(http_requests_total{code="200"}[1m])', "time": 1700001800}))
    assert [s["value"] for s in sc["result"]] == [[1700001800, "0.6666666666666666"]]
    sc = ok(amp.call("execute_range_query", {"query": "temperature_celsius + 0", "start": 1700000000, "end": 1700000060,
                                             "step": 15}))
    assert sc["result"][0]["values"] == [[1700000000, "20"], [1700000015, "21"], [1700000030, "22"],
                                         [1700000045, "23"], [1700000060, "20"]]
    assert ok(amp.call("list_metrics"))["metrics"] == ["http_requests_total", "temperature_celsius"]
    assert ok(amp.call("list_label_values", {"label": "code", "match": ['http_requests_total{service="api"}']}))["values"] \
        == ["200", "500"]
    assert ok(amp.call("find_series", {"match": ["temperature_celsius"], "start": T0, "end": T0 + 60}))["series"] == \
        [{"__name__": "temperature_celsius", "room": "lab"}]
    msg = err(amp.call("execute_query", {"query": "foo(", "time": T0}))
    assert "HTTP 400, bad_data" in msg and "unclosed left parenthesis" in msg, msg


def test_amp_workspaces_and_server_info(amp: Caller, amp_double: str) -> None:
    sc = ok(amp.call("get_available_workspaces"))
    assert sc["backend"] == "amazon-managed-prometheus"
    assert sc["workspaces"] == [
        {"workspace_id": WORKSPACE, "alias": f"alias-{WORKSPACE}", "status": "ACTIVE",
         "url": f"{amp_double}/workspaces/{WORKSPACE}", "configured": True},
        {"workspace_id": "ws-other", "alias": "alias-ws-other", "status": "ACTIVE",
         "url": f"{amp_double}/workspaces/ws-other", "configured": False}]
    sc = ok(amp.call("get_server_info"))
    assert sc["backend"] == "amazon-managed-prometheus" and sc["workspace_id"] == WORKSPACE and sc["region"] == "eu-west-1"


def test_amp_wrong_secret_is_rejected_signature(amp_double: str, workroot: Path) -> None:
    wrong = "WRONG-secret-value-zzzzzzzzzzzzzzzzzzzzzz"
    c = Caller(_host(workroot, {"workspace_id": WORKSPACE, "region": "eu-west-1", "endpoint": amp_double},
                     env={"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": wrong, "AWS_SESSION_TOKEN": TOKEN}))
    try:
        msg = err(c.call("execute_query", {"query": "up", "time": T0}))
        assert "rejected the request signature" in msg and "HTTP 403 InvalidSignatureException" in msg, msg
        assert "signature we calculated does not match" in msg, msg
        assert wrong not in msg and TOKEN not in msg
        msg = err(c.call("get_available_workspaces"))
        assert "rejected the request signature" in msg, msg
    finally:
        c.close()
    logs = c.host.logs()
    assert wrong not in logs and TOKEN not in logs


def test_amp_without_credentials_refuses_the_configuration(amp_double: str, workroot: Path) -> None:
    c = Caller(_host(workroot, {"workspace_id": WORKSPACE, "region": "eu-west-1", "endpoint": amp_double}))
    try:
        assert not any(t["name"].startswith("prometheus.") for t in c.tools())
        assert "AWS_ACCESS_KEY_ID" in c.host.logs()
    finally:
        c.close()
