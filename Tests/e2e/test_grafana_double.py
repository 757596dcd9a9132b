"""The Grafana double (Tests/grafana_double) checked with the official client: Grafana's own `mcp-grafana`
MCP server (stdio, from PyPI `mcp-grafana`), driven by the official python `mcp` client. If the real
client gets good answers from the double, the double speaks Grafana's API closely enough to test the
plugin against it.

The Prometheus behind the double's provisioned datasource is the real one of test_prometheus.py
(backfilled, exact data). mcp-grafana must be installed in the test venv (scripts/test does it):
when it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from test_prometheus import prometheus  # noqa: F401  (the real Prometheus fixture, reused)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grafana_double"))
from grafana_fixture import Double, running_double, seed  # noqa: E402

TOKEN = "glsa_double_check_token_0123456789"


def _mcp_grafana() -> str:
    candidates = [Path(sys.executable).parent / "mcp-grafana", shutil.which("mcp-grafana")]
    for c in candidates:
        if c and Path(c).exists():
            return str(c)
    pytest.fail("mcp-grafana not installed: pip install mcp-grafana (scripts/test does it)", pytrace=False)


@pytest.fixture(scope="module")
def double(prometheus: str) -> Iterator[Double]:  # noqa: F811
    with running_double([TOKEN], prometheus=prometheus) as d:
        with d.api(TOKEN) as api:
            seed(api)
        yield d


def call_tools(double: Double, calls: list[tuple[str, dict[str, Any]]], token: str = TOKEN) -> list[Any]:
    """Runs the calls in one mcp-grafana stdio session; returns the CallToolResults."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           "GRAFANA_URL": double.url, "GRAFANA_SERVICE_ACCOUNT_TOKEN": token,
           # No anonymous usage reports to Grafana Labs from a test run.
           "GRAFANA_USAGE_STATS": "disabled", "DO_NOT_TRACK": "1"}
    params = StdioServerParameters(command=_mcp_grafana(), args=["--usage-stats=disabled"], env=env)
    results: list[Any] = []

    async def run() -> None:
        with anyio.fail_after(60):
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for name, args in calls:
                        results.append(await session.call_tool(name, args))

    anyio.run(run)
    return results


def text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def ok_json(result: Any) -> Any:
    assert not result.is_error, text(result)
    return json.loads(text(result))


def test_search_dashboards(double: Double) -> None:
    by_query, by_tag = call_tools(double, [("search_dashboards", {"query": "service"}),
                                           ("search_dashboards", {"tag": ["infra"]})])
    body = ok_json(by_query)
    assert [(d["uid"], d["title"]) for d in body["dashboards"]] == [("svc", "Service overview")]
    assert body["dashboards"][0]["url"].endswith("/d/svc/service-overview")
    assert [d["uid"] for d in ok_json(by_tag)["dashboards"]] == ["node"]


def test_get_dashboard_by_uid_and_not_found(double: Double) -> None:
    found, missing = call_tools(double, [("get_dashboard_by_uid", {"uid": "svc"}),
                                         ("get_dashboard_by_uid", {"uid": "no-such-dashboard"})])
    body = ok_json(found)
    assert body["dashboard"]["title"] == "Service overview" and body["dashboard"]["version"] == 1
    assert body["meta"]["folderTitle"] == "Ops" and body["meta"]["url"] == "/d/svc/service-overview"
    assert missing.is_error
    assert "getDashboardByUidNotFound" in text(missing) and "Dashboard not found" in text(missing)


def test_get_dashboard_summary(double: Double) -> None:
    (result,) = call_tools(double, [("get_dashboard_summary", {"uid": "svc"})])
    body = ok_json(result)
    assert body["uid"] == "svc" and body["title"] == "Service overview"
    assert body["timeRange"] == {"from": "now-6h", "to": "now"}
    titles = {p["title"]: p for p in body["panels"]}
    assert titles["Request rate"]["type"] == "timeseries" and titles["Request rate"]["queryCount"] == 2
    assert {v["name"] for v in body["variables"]} == {"job", "code"}


def test_get_dashboard_panel_queries(double: Double) -> None:
    (result,) = call_tools(double, [("get_dashboard_panel_queries", {"uid": "svc"})])
    queries = ok_json(result)
    by_title = {}
    for q in queries:
        by_title.setdefault(q["title"], []).append(q)
    assert [q["query"] for q in by_title["Request rate"]] == [
        "sum by (code)(rate(http_requests_total[5m]))", 'sum(rate(http_requests_total{code="500"}[5m]))']
    assert by_title["Request rate"][0]["datasource"] == {"uid": "prometheus", "type": "prometheus"}
    assert by_title["Temperature"][0]["query"] == "temperature_celsius"
    assert by_title["Errors"][0]["datasource"] == {"uid": "loki", "type": "loki"}


def test_update_dashboard_creates_a_dashboard(double: Double) -> None:
    dashboard = {"title": "Created by mcp-grafana", "uid": "mg-created", "panels": [
        {"id": 1, "type": "timeseries", "title": "Up", "datasource": {"uid": "prometheus", "type": "prometheus"},
         "targets": [{"refId": "A", "expr": "up"}]}]}
    created, again = call_tools(double, [("update_dashboard", {"dashboard": dashboard, "folderUid": "ops"}),
                                         ("update_dashboard", {"dashboard": dashboard, "folderUid": "ops"})])
    assert not created.is_error, text(created)
    assert "mg-created" in text(created)
    with double.api(TOKEN) as api:
        stored = api.get("/api/dashboards/uid/mg-created").json()
    assert stored["dashboard"]["title"] == "Created by mcp-grafana" and stored["meta"]["folderUid"] == "ops"
    # The same body again (no version, overwrite false): Grafana's version-mismatch, as the client reports it.
    assert again.is_error and "412" in text(again) and "version-mismatch" in text(again)


def test_datasources(double: Double) -> None:
    listed, by_uid, by_name, missing = call_tools(double, [
        ("list_datasources", {}), ("get_datasource", {"uid": "prometheus"}), ("get_datasource", {"name": "Logs"}),
        ("get_datasource", {"uid": "nope"})])
    body = ok_json(listed)
    assert sorted((d["uid"], d["type"]) for d in body["datasources"]) == [("loki", "loki"), ("prometheus", "prometheus")]
    assert ok_json(by_uid)["name"] == "Prometheus"
    assert ok_json(by_name)["uid"] == "loki"
    # mcp-grafana words the double's 404 {"message":"Data source not found"} itself.
    assert missing.is_error and "datasource with UID 'nope' not found" in text(missing)


def test_folders(double: Double) -> None:
    created, found = call_tools(double, [("create_folder", {"title": "Team A", "uid": "team-a"}),
                                         ("search_folders", {"query": "Team"})])
    assert ok_json(created)["uid"] == "team-a"
    assert [f["uid"] for f in ok_json(found)["dashboards"]] == ["team-a"]


def test_query_prometheus_instant_and_range(double: Double) -> None:
    instant, ranged = call_tools(double, [
        ("query_prometheus", {"datasourceUid": "prometheus", "expr": "http_requests_total",
                              "queryType": "instant", "endTime": "2023-11-14T22:23:20Z"}),
        ("query_prometheus", {"datasourceUid": "prometheus", "expr": "temperature_celsius", "queryType": "range",
                              "startTime": "2023-11-14T22:13:20Z", "endTime": "2023-11-14T22:14:20Z",
                              "stepSeconds": 15})])
    # 1700000600 = 2023-11-14T22:23:20Z: code 200 -> 400, code 500 -> 40 (see test_prometheus.py).
    series = ok_json(instant)["data"]
    assert {s["metric"]["code"]: s["value"] for s in series} == {"200": [1700000600, "400"], "500": [1700000600, "40"]}
    series = ok_json(ranged)["data"]
    assert series == [{"metric": {"__name__": "temperature_celsius", "room": "lab"},
                       "values": [[1700000000, "20"], [1700000015, "21"], [1700000030, "22"], [1700000045, "23"],
                                  [1700000060, "20"]]}]


def test_auth_like_grafana(double: Double) -> None:
    assert httpx.get(double.url + "/api/health").json()["database"] == "ok", "health needs no token"
    r = httpx.get(double.url + "/api/search")
    assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}
    r = httpx.get(double.url + "/api/search", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json() == {"message": "invalid API key"}
    (result,) = call_tools(double, [("search_dashboards", {})], token="glsa_wrong")
    assert result.is_error and "401" in text(result) and "invalid API key" in text(result), text(result)


def test_double_answers_502_without_prometheus() -> None:
    with running_double([TOKEN]) as d, d.api(TOKEN) as api:
        api.post("/api/datasources", json={"name": "Nowhere", "type": "prometheus", "uid": "nowhere",
                                           "url": "http://127.0.0.1:9"}).raise_for_status()
        r = api.post("/api/datasources/uid/nowhere/resources/api/v1/query", data={"query": "up"})
        assert r.status_code == 502 and r.json() == {"message": "Bad Gateway"}
