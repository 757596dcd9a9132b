"""The Grafana plugin through a real mcp-host, against the Grafana double (Tests/grafana_double, itself
checked with the official mcp-grafana client in test_grafana_double.py), whose Prometheus datasource is
the real Prometheus of test_prometheus.py with backfilled, exact data:
  from t0 = 1700000000, 241 samples 15 s apart of http_requests_total{service="api",code="200"} = 10*i,
  {code="500"} = i, temperature_celsius{room="lab"} = 20 + i%4.
Prometheus must be installed (.ci/run installs it): when it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import BUILD_DIR, Host, free_port
from mcpwire import text_of
from plugin_calls import PluginCaller, err, ok, silent_listener, timed_error
from test_prometheus import T0, prometheus  # noqa: F401  (the real Prometheus fixture, reused)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grafana_double"))
from grafana_fixture import NODE_DASHBOARD, SERVICE_DASHBOARD, Double, running_double, seed  # noqa: E402

PLUGIN_FILE = "libMCPPluginGrafana.so"
TOKEN = "glsa_plugin_TEST_token_7f3c9a1e5b"
TOKEN_ENV = "GRAFANA_TEST_TOKEN"
WRITE_TOOLS = ("create_dashboard", "update_dashboard", "create_datasource", "create_folder")
READ_TOOLS = ("search_dashboards", "get_dashboard_by_uid", "get_dashboard_summary", "get_dashboard_panel_queries",
              "list_datasources", "get_datasource", "list_folders", "query_prometheus_datasource")


@pytest.fixture(scope="module")
def double(prometheus: str) -> Iterator[Double]:  # noqa: F811
    with running_double([TOKEN], prometheus=prometheus, orgs=(2,)) as d:
        with d.api(TOKEN) as api:
            seed(api)
        # Organization 2 has its own datasource and dashboard: seeing them proves X-Grafana-Org-Id was sent.
        with d.api(TOKEN, org=2) as api:
            api.post("/api/datasources", json={"uid": "org2-prom", "name": "Org 2 Prometheus", "type": "prometheus",
                                               "url": prometheus}).raise_for_status()
            api.post("/api/dashboards/db", json={"dashboard": {"uid": "org2-dash", "title": "Org two"}}).raise_for_status()
        yield d


def _host(workroot: Path, settings: dict[str, Any], env: dict[str, str] | None = None, call_timeout_ms: int = 10000,
          egress: list[str] | None = None) -> Host:
    so = BUILD_DIR / PLUGIN_FILE
    if not so.exists():
        pytest.fail(f"missing build product {so} (swift build --product MCPPluginGrafana)", pytrace=False)
    tenant: dict[str, Any] = {"id": "local", "plugins": {"grafana": settings}}
    if egress is not None:
        tenant["egress"] = egress
    # Debug logging: the most the host ever logs, searched for the token afterwards.
    config = {"server": {"call_timeout_ms": call_timeout_ms}, "logging": {"level": "debug"}, "tenants": [tenant]}
    return Host(workroot, plugins=(), config=config, env={TOKEN_ENV: TOKEN, **(env or {})},
                extra_files={PLUGIN_FILE: so.read_bytes()})


class Caller(PluginCaller):
    def __init__(self, host: Host) -> None:
        super().__init__(host, "grafana", secrets=(TOKEN,))


def _token_file(workroot: Path, content: str = TOKEN + "\n") -> Path:
    path = workroot / f"grafana-token-{time.monotonic_ns()}"
    path.write_text(content)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def reader(double: Double, workroot: Path) -> Iterator[Caller]:
    """Token from an environment variable; writes not allowed (the default)."""
    c = Caller(_host(workroot, {"url": double.url, "token_env": TOKEN_ENV}))
    yield c
    c.close()


@pytest.fixture(scope="module")
def writer(double: Double, workroot: Path) -> Iterator[Caller]:
    """Token from a file; allow_writes: true."""
    c = Caller(_host(workroot, {"url": double.url + "/", "token_file": str(_token_file(workroot)), "allow_writes": True}))
    yield c
    c.close()


def stored(double: Double, uid: str) -> dict[str, Any]:
    with double.api(TOKEN) as api:
        r = api.get(f"/api/dashboards/uid/{uid}")
        r.raise_for_status()
        return r.json()


# ------------------------------------------------------------------------------- manifest ----

def test_tools_are_listed_with_output_schemas_and_truthful_annotations(reader: Caller) -> None:
    tools = {t["name"].removeprefix("grafana."): t for t in reader.tools() if t["name"].startswith("grafana.")}
    assert set(tools) == set(READ_TOOLS) | set(WRITE_TOOLS)
    for name, t in tools.items():
        assert t["outputSchema"]["type"] == "object", name
        a = t["annotations"]
        if name in READ_TOOLS:
            assert a["readOnlyHint"] is True and a["destructiveHint"] is False and a["idempotentHint"] is True, name
        else:
            assert a["readOnlyHint"] is False, name
            assert a["destructiveHint"] is (name == "update_dashboard"), name
            assert a["idempotentHint"] is False, name


# ---------------------------------------------------------------------------- dashboards ----

def test_search_dashboards(reader: Caller, double: Double) -> None:
    r = reader.call("search_dashboards", {"query": "service"})
    sc = ok(r)
    assert sc == {"dashboards": [{"uid": "svc", "title": "Service overview", "url": f"{double.url}/d/svc/service-overview",
                                  "tags": ["api", "prod"], "folder_uid": "ops", "folder_title": "Ops"}],
                  "count": 1, "page": 1, "limit": 50}
    assert "svc  Service overview  [Ops]  tags: api, prod" in text_of(r)
    assert [d["uid"] for d in ok(reader.call("search_dashboards", {"tags": ["infra"]}))["dashboards"]] == ["node"]
    assert [d["uid"] for d in ok(reader.call("search_dashboards", {"folder_uids": ["ops"]}))["dashboards"]] == ["svc"]
    assert ok(reader.call("search_dashboards", {"tags": ["api", "infra"]}))["count"] == 0
    paged = ok(reader.call("search_dashboards", {"query": "e", "limit": 1, "page": 2}))
    assert paged["count"] == 1 and paged["page"] == 2


def test_get_dashboard_by_uid(reader: Caller, double: Double) -> None:
    r = reader.call("get_dashboard_by_uid", {"uid": "node"})
    sc = ok(r)
    assert sc["dashboard"]["title"] == "Node exporter" and sc["dashboard"]["panels"] == NODE_DASHBOARD["panels"]
    assert sc["meta"]["version"] == 1 and sc["meta"]["url"] == f"{double.url}/d/node/node-exporter"
    assert sc["meta"]["folder_title"] == "General" and sc["meta"]["folder_uid"] == ""
    assert text_of(r).startswith("Node exporter (uid node) version 1 in folder General\n{")


def test_dashboard_not_found_is_grafanas_404(reader: Caller) -> None:
    for tool in ("get_dashboard_by_uid", "get_dashboard_summary", "get_dashboard_panel_queries"):
        msg = err(reader.call(tool, {"uid": "no-such-dash"}))
        assert msg == "Grafana answered HTTP 404 for dashboard 'no-such-dash': Dashboard not found", msg


def test_dashboard_summary(reader: Caller, double: Double) -> None:
    r = reader.call("get_dashboard_summary", {"uid": "svc"})
    sc = ok(r)
    prom = {"uid": "prometheus", "type": "prometheus"}
    assert sc == {
        "uid": "svc", "title": "Service overview", "version": 1, "url": f"{double.url}/d/svc/service-overview",
        "folder": {"uid": "ops", "title": "Ops"}, "tags": ["api", "prod"], "panel_count": 5,
        "panels": [
            {"id": 1, "title": "Request rate", "type": "timeseries", "datasource": prom, "query_count": 2},
            {"id": 2, "title": "Temperature", "type": "stat", "datasource": prom, "query_count": 1},
            {"id": 5, "title": "Notes", "type": "text", "query_count": 0},
            {"id": 4, "title": "Errors", "type": "logs", "row": "Details", "datasource": {"uid": "loki", "type": "loki"},
             "query_count": 1},
            {"id": 6, "title": "CPU", "type": "timeseries", "row": "Details",
             "datasource": {"uid": "cw", "type": "cloudwatch"}, "query_count": 1}],
        "variables": [
            {"name": "job", "type": "query", "label": "Job", "query": "label_values(up, job)", "current": "api",
             "datasource": prom},
            {"name": "code", "type": "custom", "query": "200,500", "current": "200,500", "multi": True}],
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "timezone": "utc"}
    text = text_of(r)
    assert text.startswith("Service overview (uid svc) v1, folder Ops\ntags: api, prod\ntime: now-6h to now, refresh 30s\n")
    assert "  #1 Request rate [timeseries] on prometheus (prometheus), 2 queries" in text
    assert "  #4 Errors [logs] on loki (loki), 1 query (row Details)" in text
    assert "  $job [query] label_values(up, job) = api" in text


def test_panel_queries(reader: Caller) -> None:
    r = reader.call("get_dashboard_panel_queries", {"uid": "svc"})
    sc = ok(r)
    assert sc["uid"] == "svc" and sc["title"] == "Service overview"
    by_id = {p["id"]: p for p in sc["panels"]}
    prom = {"uid": "prometheus", "type": "prometheus"}
    assert by_id[1]["queries"] == [
        {"ref_id": "A", "query": "sum by (code)(rate(http_requests_total[5m]))", "datasource": prom},
        {"ref_id": "B", "query": 'sum(rate(http_requests_total{code="500"}[5m]))', "datasource": prom, "hidden": True}]
    # The panel's datasource is null: the target's own is reported.
    assert by_id[2]["queries"] == [{"ref_id": "A", "query": "temperature_celsius", "datasource": prom}]
    assert by_id[5]["queries"] == []
    assert by_id[4] == {"id": 4, "title": "Errors", "type": "logs", "row": "Details", "queries": [
        {"ref_id": "A", "query": '{app="api"} |= "error"', "datasource": {"uid": "loki", "type": "loki"}}]}
    # Built in a visual editor: no textual query, the raw target instead.
    assert by_id[6]["queries"] == [{"ref_id": "A", "query": "", "datasource": {"uid": "cw", "type": "cloudwatch"},
                                    "target": {"refId": "A", "namespace": "AWS/EC2", "metricName": "CPUUtilization"}}]
    assert "  B on prometheus (prometheus): sum(rate(http_requests_total{code=\"500\"}[5m])) (hidden)" in text_of(r)
    one = ok(reader.call("get_dashboard_panel_queries", {"uid": "svc", "panel_id": 4}))
    assert [p["id"] for p in one["panels"]] == [4]
    msg = err(reader.call("get_dashboard_panel_queries", {"uid": "svc", "panel_id": 99}))
    assert "'panel_id'" in msg and "no panel with id 99" in msg, msg


# ------------------------------------------------------------------------------- writes ----

def test_writes_are_refused_without_allow_writes(reader: Caller, double: Double) -> None:
    args = {"create_dashboard": {"dashboard": {"title": "Refused"}},
            "update_dashboard": {"uid": "svc", "operations": [{"op": "replace", "path": "$.title", "value": "X"}]},
            "create_datasource": {"name": "Refused", "type": "prometheus"},
            "create_folder": {"title": "Refused"}}
    for tool, a in args.items():
        msg = err(reader.call(tool, a))
        assert msg.startswith(f"{tool} changes Grafana") and "allow_writes: true" in msg, msg
    assert stored(double, "svc")["dashboard"]["title"] == "Service overview"
    with double.api(TOKEN) as api:
        assert "Refused" not in json.dumps(api.get("/api/search").json() + api.get("/api/datasources").json())


def test_create_dashboard_and_name_exists(writer: Caller, double: Double) -> None:
    model = {"title": "Created by plugin", "tags": ["new"], "id": 12345, "version": 7,
             "panels": [{"id": 1, "type": "stat", "title": "Temp", "targets": [{"refId": "A", "expr": "temperature_celsius"}]}]}
    r = writer.call("create_dashboard", {"dashboard": model, "folder_uid": "ops", "message": "first"})
    sc = ok(r)
    assert sc["version"] == 1 and sc["status"] == "success" and sc["folder_uid"] == "ops" and sc["slug"] == "created-by-plugin"
    assert sc["url"] == f"{double.url}/d/{sc['uid']}/created-by-plugin"
    assert text_of(r) == f"created dashboard 'Created by plugin' (uid {sc['uid']}) version 1: {sc['url']}"
    saved = stored(double, sc["uid"])
    assert saved["dashboard"]["panels"] == model["panels"] and saved["meta"]["folderUid"] == "ops"
    # The same title in the same folder: Grafana's 412 name-exists, with its message.
    msg = err(writer.call("create_dashboard", {"dashboard": {"title": "Created by plugin"}, "folder_uid": "ops"}))
    assert msg == ("Grafana answered HTTP 412, name-exists for saving dashboard 'Created by plugin': "
                   "A dashboard with the same name in the folder already exists"), msg
    # An existing uid is never overwritten by create.
    msg = err(writer.call("create_dashboard", {"dashboard": {"title": "Another", "uid": "node"}}))
    assert "HTTP 412, version-mismatch" in msg, msg
    assert stored(double, "node")["dashboard"]["title"] == "Node exporter"
    msg = err(writer.call("create_dashboard", {"dashboard": {"title": "Lost"}, "folder_uid": "no-such-folder"}))
    assert msg.endswith(": folder not found"), msg


def test_update_dashboard_full_json_and_version_mismatch(writer: Caller, double: Double) -> None:
    uid = ok(writer.call("create_dashboard", {"dashboard": {"title": "Full mode", "tags": ["a"]}, "folder_uid": "ops"}))["uid"]
    current = ok(writer.call("get_dashboard_by_uid", {"uid": uid}))["dashboard"]
    changed = {**current, "tags": ["a", "b"]}
    sc = ok(writer.call("update_dashboard", {"dashboard": changed, "message": "add tag b"}))
    assert sc["uid"] == uid and sc["version"] == 2 and sc["previous_version"] == 1
    after = stored(double, uid)
    assert after["dashboard"]["tags"] == ["a", "b"] and after["meta"]["folderUid"] == "ops", "stays in its folder"
    # Saving again from the stale copy (version 1): Grafana's 412 version-mismatch, its message verbatim.
    stale = {**current, "tags": ["stale"]}
    msg = err(writer.call("update_dashboard", {"dashboard": stale}))
    assert msg == (f"Grafana answered HTTP 412, version-mismatch for saving dashboard 'Full mode': "
                   "The dashboard has been changed by someone else"), msg
    assert stored(double, uid)["dashboard"]["tags"] == ["a", "b"]
    # overwrite: true saves anyway.
    sc = ok(writer.call("update_dashboard", {"dashboard": stale, "overwrite": True}))
    assert sc["version"] == 3 and stored(double, uid)["dashboard"]["tags"] == ["stale"]
    # An unknown uid is not created by update.
    msg = err(writer.call("update_dashboard", {"dashboard": {"uid": "never-was", "title": "X", "version": 1}}))
    assert msg == "Grafana answered HTTP 404 for dashboard 'never-was': Dashboard not found", msg


def test_update_dashboard_patch_operations(writer: Caller, double: Double) -> None:
    model = copy.deepcopy(SERVICE_DASHBOARD)
    model.pop("uid")
    model["title"] = "Patch me"
    uid = ok(writer.call("create_dashboard", {"dashboard": model}))["uid"]
    ops = [
        {"op": "replace", "path": "$.title", "value": "Patched"},
        {"op": "replace", "path": "$.panels[0].targets[0].expr", "value": "sum(rate(http_requests_total[1m]))"},
        {"op": "replace", "path": "/panels/1/title", "value": "Temp (°C)"},
        {"op": "add", "path": "$.panels/- ", "value": {"id": 7, "type": "text", "title": "Appended"}},
        {"op": "add", "path": "/templating/list/-", "value": {"name": "env", "type": "constant", "query": "prod"}},
        {"op": "add", "path": "$.tags[0]", "value": "first"},
        {"op": "remove", "path": "$.panels[2]"},
        {"op": "add", "path": "$['description']", "value": "patched by a test"},
        {"op": "remove", "path": "/refresh"},
        {"op": "add", "path": "/links~1extra", "value": "~1 is a slash in a JSON Pointer"},
        {"op": "add", "path": "/panels/0/targets/0", "value": {"refId": "Z", "expr": "up"}},
    ]
    r = writer.call("update_dashboard", {"uid": uid, "operations": ops, "message": "patch"})
    sc = ok(r)
    assert sc["version"] == 2 and sc["previous_version"] == 1 and sc["operations_applied"] == 11
    assert "with 11 operation(s): version 1 → 2" in text_of(r)
    d = stored(double, uid)["dashboard"]
    assert d["title"] == "Patched" and d["description"] == "patched by a test" and "refresh" not in d
    assert d["links/extra"] == "~1 is a slash in a JSON Pointer"
    assert [t["expr"] for t in d["panels"][0]["targets"]] == [
        "up", "sum(rate(http_requests_total[1m]))", 'sum(rate(http_requests_total{code="500"}[5m]))'], "inserted at 0"
    assert d["panels"][1]["title"] == "Temp (°C)"
    assert [p["id"] for p in d["panels"]] == [1, 2, 3, 7], "text panel 5 removed, 7 appended"
    assert [v["name"] for v in d["templating"]["list"]] == ["job", "code", "env"]
    assert d["tags"] == ["first", "api", "prod"]

    # Optimistic locking: operations written against version 1, the dashboard is at 2.
    msg = err(writer.call("update_dashboard", {"uid": uid, "version": 1,
                                               "operations": [{"op": "replace", "path": "$.title", "value": "Lost"}]}))
    assert "HTTP 412, version-mismatch" in msg and "The dashboard has been changed by someone else" in msg, msg
    sc = ok(writer.call("update_dashboard", {"uid": uid, "version": 2,
                                             "operations": [{"op": "replace", "path": "$.title", "value": "Kept"}]}))
    assert sc["version"] == 3 and stored(double, uid)["dashboard"]["title"] == "Kept"

    # Bad operations are refused before anything is saved, naming the operation.
    bad = [
        ([{"op": "replace", "path": "$.panels[9].title", "value": "x"}], "'operations[0].path'", "$.panels[9] does not exist"),
        ([{"op": "replace", "path": "$.nope", "value": 1}], "'operations[0].path'", "$.nope does not exist (use add"),
        ([{"op": "add", "path": "$.title", "value": 1}, {"op": "remove", "path": "$.panels[?(@.id==1)]"}],
         "'operations[1].path'", "only non-negative array indices"),
        ([{"op": "replace", "path": "panels.0.title", "value": 1}], "'operations[0].path'", "neither a JSONPath"),
        ([{"op": "replace", "path": "$.title"}], "'operations[0].value'", "required for replace"),
        ([{"op": "remove", "path": "$.panels/-"}], "'operations[0].path'", "only with op add"),
        ([{"op": "replace", "path": "/panels/-", "value": {}}], "'operations[0].path'", "only as the last step of an add"),
        ([{"op": "replace", "path": "/panels/01/title", "value": "x"}], "'operations[0].path'", "'01' is not an index"),
        ([{"op": "replace", "path": "$.uid", "value": "other"}], "'operations[0].path'", "managed by Grafana"),
        ([{"op": "replace", "path": "$.title.x", "value": 1}], "'operations[0].path'", "is a scalar"),
    ]
    for operations, field, why in bad:
        msg = err(writer.call("update_dashboard", {"uid": uid, "operations": operations}))
        assert field in msg and why in msg, (operations, msg)
    assert stored(double, uid)["dashboard"]["version"] == 3, "nothing saved by the refused patches"
    msg = err(writer.call("update_dashboard", {"uid": "no-such-dash", "operations": [{"op": "remove", "path": "/tags"}]}))
    assert msg == "Grafana answered HTTP 404 for dashboard 'no-such-dash': Dashboard not found", msg


def test_update_dashboard_argument_errors(writer: Caller) -> None:
    cases = [
        ({}, "give 'dashboard' (full mode) or 'uid' with 'operations'"),
        ({"dashboard": {"title": "x", "uid": "svc"}, "uid": "svc"}, "not both"),
        ({"dashboard": {"title": "x"}}, "'dashboard.uid' is required"),
        ({"dashboard": {"title": "x", "uid": "svc"}, "version": 3}, "'version' is for patch mode"),
        ({"uid": "svc"}, "'operations' is required"),
        ({"uid": "svc", "operations": [{"op": "remove", "path": "/tags"}], "overwrite": True}, "'overwrite' is for full mode"),
        ({"uid": "svc", "operations": [{"op": "move", "path": "/tags"}]}, "op"),
    ]
    for args, expected in cases:
        msg = err(writer.call("update_dashboard", args))
        assert expected in msg, (args, msg)


# --------------------------------------------------------------------------- datasources ----

def test_list_and_get_datasources(reader: Caller) -> None:
    r = reader.call("list_datasources")
    sc = ok(r)
    assert [(d["uid"], d["name"], d["type"], d["is_default"]) for d in sc["datasources"]][:2] == [
        ("loki", "Logs", "loki", False), ("prometheus", "Prometheus", "prometheus", True)]
    assert "prometheus  Prometheus [prometheus] (default)" in text_of(r)
    assert [d["uid"] for d in ok(reader.call("list_datasources", {"type": "LOKI"}))["datasources"]] == ["loki"]
    assert [d["uid"] for d in ok(reader.call("list_datasources", {"name": "prom"}))["datasources"]] == ["prometheus"]
    by_uid = ok(reader.call("get_datasource", {"uid": "prometheus"}))["datasource"]
    assert by_uid["name"] == "Prometheus" and by_uid["json_data"] == {"httpMethod": "POST"} and by_uid["access"] == "proxy"
    assert ok(reader.call("get_datasource", {"name": "Logs"}))["datasource"]["uid"] == "loki"
    msg = err(reader.call("get_datasource", {"uid": "nope"}))
    assert msg == "Grafana answered HTTP 404 for datasource uid 'nope': Data source not found", msg
    msg = err(reader.call("get_datasource", {"name": "No such"}))
    assert msg == "Grafana answered HTTP 404 for datasource name 'No such': Data source not found", msg
    assert "exactly one of the arguments 'uid' and 'name'" in err(reader.call("get_datasource", {}))
    assert "exactly one" in err(reader.call("get_datasource", {"uid": "a", "name": "b"}))


def test_create_datasource_and_duplicate_name(writer: Caller, double: Double, prometheus: str) -> None:  # noqa: F811
    r = writer.call("create_datasource", {"name": "Second Prometheus", "type": "prometheus", "uid": "prom2",
                                          "url": prometheus, "json_data": {"httpMethod": "POST", "timeInterval": "15s"}})
    sc = ok(r)
    assert sc["message"] == "Datasource added"
    assert sc["datasource"]["uid"] == "prom2" and sc["datasource"]["url"] == prometheus
    assert sc["datasource"]["json_data"] == {"httpMethod": "POST", "timeInterval": "15s"}
    assert text_of(r).startswith("Datasource added: prom2  Second Prometheus [prometheus]")
    # Usable at once: a query through it reads the same data.
    q = ok(writer.call("query_prometheus_datasource", {"datasource_uid": "prom2", "expr": "temperature_celsius", "time": T0}))
    assert [s["value"] for s in q["result"]] == [[T0, "20"]]
    msg = err(writer.call("create_datasource", {"name": "Second Prometheus", "type": "prometheus"}))
    assert msg == ("Grafana answered HTTP 409 for creating datasource 'Second Prometheus': "
                   "data source with the same name already exists"), msg


# ------------------------------------------------------------------------------- folders ----

def test_folders(writer: Caller, reader: Caller) -> None:
    r = writer.call("create_folder", {"title": "Team B", "uid": "team-b"})
    sc = ok(r)
    assert sc["uid"] == "team-b" and sc["title"] == "Team B" and sc["version"] == 1
    assert sc["url"].endswith("/dashboards/f/team-b/team-b")
    child = ok(writer.call("create_folder", {"title": "Nested", "parent_uid": "team-b"}))
    assert child["parent_uid"] == "team-b"
    r = reader.call("list_folders")
    listed = ok(r)
    assert {"uid": "team-b", "id": sc["id"], "title": "Team B"} in listed["folders"]
    assert "team-b  Team B" in text_of(r)
    assert all(f["title"] != "Nested" for f in listed["folders"]), "one level at a time, as Grafana lists folders"
    assert listed["count"] == len(listed["folders"])
    r = reader.call("list_folders", {"parent_uid": "team-b"})
    assert ok(r) == {"folders": [{"uid": child["uid"], "id": child["id"], "title": "Nested", "parent_uid": "team-b"}],
                     "count": 1}
    assert text_of(r) == f"1 folder(s) in 'team-b':\n{child['uid']}  Nested"
    msg = err(reader.call("list_folders", {"parent_uid": "missing"}))
    assert msg == "Grafana answered HTTP 404 for the subfolders of 'missing': folder not found", msg
    msg = err(writer.call("create_folder", {"title": "Other", "uid": "team-b"}))
    assert msg == ("Grafana answered HTTP 409 for creating folder 'Other': "
                   "a folder/dashboard with the same uid already exists"), msg
    msg = err(writer.call("create_folder", {"title": "Orphan", "parent_uid": "missing"}))
    assert msg.endswith("HTTP 404 for creating folder 'Orphan': folder not found"), msg


# ----------------------------------------------------------------------- Prometheus query ----

def test_prometheus_instant_query_exact_values(reader: Caller) -> None:
    r = reader.call("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "http_requests_total",
                                                    "time": 1700000600})
    sc = ok(r)
    assert sc["datasource_uid"] == "prometheus" and sc["query_type"] == "instant" and sc["resultType"] == "vector"
    assert {s["metric"]["code"]: s["value"] for s in sc["result"]} == {"200": [1700000600, "400"], "500": [1700000600, "40"]}
    assert 'http_requests_total{code="200",service="api"} 400 @1700000600' in text_of(r)
    sc = ok(reader.call("query_prometheus_datasource", {"datasource_uid": "prometheus",
                                                        "expr": 'rate(http_requests_total{code="200"}[1m])',
                                                        "time": "2023-11-14T22:43:20Z", "query_type": "instant"}))
    assert [s["value"] for s in sc["result"]] == [[1700001800, "0.6666666666666666"]]
    # Relative times are the host's "now": nothing is stored near it (data is from 2023).
    sc = ok(reader.call("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "temperature_celsius",
                                                        "time": "now-5m"}))
    assert sc["result"] == []


def test_prometheus_range_query_exact_values(reader: Caller) -> None:
    r = reader.call("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "temperature_celsius",
                                                    "query_type": "range", "start": T0, "end": "2023-11-14T22:14:20Z",
                                                    "step": "15s"})
    sc = ok(r)
    assert sc["resultType"] == "matrix"
    assert sc["result"] == [{"metric": {"__name__": "temperature_celsius", "room": "lab"},
                             "values": [[T0, "20"], [T0 + 15, "21"], [T0 + 30, "22"], [T0 + 45, "23"], [T0 + 60, "20"]]}]
    assert 'temperature_celsius{room="lab"} [5 points]: 20 @1700000000, 21 @1700000015' in text_of(r)


def test_prometheus_query_errors(reader: Caller) -> None:
    msg = err(reader.call("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "foo(", "time": T0}))
    assert msg.startswith("Prometheus error through Grafana datasource 'prometheus' (HTTP 400, bad_data): ")
    assert 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis' in msg, msg
    msg = err(reader.call("query_prometheus_datasource", {"datasource_uid": "loki", "expr": "up"}))
    assert msg == "datasource 'loki' is of type 'loki': query_prometheus_datasource needs a Prometheus-type datasource"
    msg = err(reader.call("query_prometheus_datasource", {"datasource_uid": "gone", "expr": "up"}))
    assert msg == "Grafana answered HTTP 404 for datasource uid 'gone': Data source not found", msg
    cases = [
        ({"query_type": "range", "end": T0, "step": 15}, "argument 'start' is required"),
        ({"query_type": "range", "start": T0, "end": T0 + 60}, "argument 'step' is required"),
        ({"query_type": "range", "start": T0, "end": T0 - 60, "step": 15}, "argument 'end'"),
        ({"query_type": "range", "start": T0, "end": T0 + 60, "step": "fast"}, "argument 'step'"),
        ({"query_type": "range", "start": T0, "end": T0 + 11000, "step": 1}, "11,001 points"),
        ({"time": "yesterday"}, "argument 'time'"),
        ({"start": T0}, "argument 'start' applies to query_type 'range' only"),
        ({"query_type": "range", "start": T0, "end": T0 + 60, "step": 15, "time": T0}, "argument 'time' applies"),
    ]
    for extra, expected in cases:
        msg = err(reader.call("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "up", **extra}))
        assert expected in msg, (extra, msg)


def test_prometheus_datasource_without_backend_is_502(writer: Caller) -> None:
    ok(writer.call("create_datasource", {"name": "Dead Prometheus", "type": "prometheus", "uid": "dead",
                                         "url": f"http://127.0.0.1:{free_port()}"}))
    msg = err(writer.call("query_prometheus_datasource", {"datasource_uid": "dead", "expr": "up", "time": T0}))
    assert msg == "Grafana answered HTTP 502 for datasource 'dead' query: Bad Gateway", msg


# ------------------------------------------------------------ bad arguments (host schema) ----

def test_bad_arguments_name_the_field(reader: Caller) -> None:
    for tool, args, field in [
        ("get_dashboard_by_uid", {}, "uid"),
        ("get_dashboard_summary", {"uid": 5}, "uid"),
        ("search_dashboards", {"limit": 0}, "limit"),
        ("search_dashboards", {"tags": "api"}, "tags"),
        ("query_prometheus_datasource", {"datasource_uid": "prometheus"}, "expr"),
        ("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "up", "query_type": "sideways"},
         "query_type"),
        ("list_datasources", {"kind": "x"}, "kind"),
        # Schema checks come first, also for a write tool this tenant may not use.
        ("create_dashboard", {"dashboard": {"uid": "x"}}, "title"),
    ]:
        msg = err(reader.call(tool, args))
        assert field in msg, (tool, args, msg)


# ------------------------------------------------------------- auth, org, config, failures ----

def test_wrong_token_is_grafanas_401_and_never_shown(double: Double, workroot: Path) -> None:
    wrong = "glsa_WRONG_token_value_000000"
    c = Caller(_host(workroot, {"url": double.url, "token_env": "GRAFANA_WRONG_TOKEN"}, env={"GRAFANA_WRONG_TOKEN": wrong}))
    try:
        for tool, args in (("search_dashboards", {}), ("list_datasources", {}),
                           ("query_prometheus_datasource", {"datasource_uid": "prometheus", "expr": "up"})):
            r = c.call(tool, args)
            msg = err(r)
            assert msg == "Grafana rejected the configured token (HTTP 401): invalid API key", msg
            assert wrong not in json.dumps(r)
    finally:
        c.close()
    assert wrong not in c.host.logs()


def test_token_from_file_is_used(double: Double, workroot: Path) -> None:
    # The writer fixture reads its token from a file; this one too, with surrounding whitespace.
    c = Caller(_host(workroot, {"url": double.url, "token_file": str(_token_file(workroot, f"  {TOKEN}\n\n"))}))
    try:
        assert ok(c.call("list_folders"))["count"] >= 1
    finally:
        c.close()


def test_missing_token_refuses_the_configuration(double: Double, workroot: Path) -> None:
    for settings, named in (({"url": double.url, "token_env": "NO_SUCH_GRAFANA_VAR"}, "NO_SUCH_GRAFANA_VAR"),
                            ({"url": double.url, "token_file": str(workroot / "absent-token")}, "absent-token"),
                            ({"url": double.url, "token_file": str(_token_file(workroot, "\n"))}, "is empty")):
        c = Caller(_host(workroot, settings))
        try:
            assert not any(t["name"].startswith("grafana.") for t in c.tools())
            assert named in c.host.logs()
        finally:
            c.close()
    # Neither, or both, of token_env and token_file: refused by the configuration schema.
    for settings in ({"url": double.url}, {"url": double.url, "token_env": TOKEN_ENV, "token_file": "/x"},
                     {"url": "ftp://grafana", "token_env": TOKEN_ENV},
                     {"url": "http://user:pw@127.0.0.1:1", "token_env": TOKEN_ENV}):
        c = Caller(_host(workroot, settings))
        try:
            assert not any(t["name"].startswith("grafana.") for t in c.tools()), settings
        finally:
            c.close()


def test_org_id_header_is_forwarded(double: Double, workroot: Path) -> None:
    c = Caller(_host(workroot, {"url": double.url, "token_env": TOKEN_ENV, "org_id": 2}))
    try:
        assert [d["uid"] for d in ok(c.call("list_datasources"))["datasources"]] == ["org2-prom"]
        assert [d["uid"] for d in ok(c.call("search_dashboards"))["dashboards"]] == ["org2-dash"]
        sc = ok(c.call("query_prometheus_datasource", {"datasource_uid": "org2-prom", "expr": "temperature_celsius",
                                                       "time": T0}))
        assert [s["value"] for s in sc["result"]] == [[T0, "20"]]
        assert "HTTP 404" in err(c.call("get_dashboard_summary", {"uid": "svc"})), "org 1's dashboard is not in org 2"
    finally:
        c.close()
    c = Caller(_host(workroot, {"url": double.url, "token_env": TOKEN_ENV, "org_id": 3}))
    try:
        msg = err(c.call("list_folders"))
        assert msg == "Grafana denied access to the folder list (HTTP 403): Access denied to organization", msg
    finally:
        c.close()


def test_egress_allow_list_applies(double: Double, workroot: Path) -> None:
    c = Caller(_host(workroot, {"url": double.url, "token_env": TOKEN_ENV}, egress=["grafana.example.com"]))
    try:
        msg = err(c.call("list_folders"))
        assert msg.startswith("Grafana is unreachable (127.0.0.1:") and "egress" in msg.lower(), msg
    finally:
        c.close()


def test_unreachable_grafana_is_an_error_within_the_deadline(workroot: Path) -> None:
    # A port nobody listens on (connection refused) ...
    msg, elapsed = timed_error(
        Caller(_host(workroot, {"url": f"http://127.0.0.1:{free_port()}", "token_env": TOKEN_ENV}, call_timeout_ms=3000)),
        "search_dashboards")
    assert msg.startswith("Grafana is unreachable (127.0.0.1:"), msg
    assert elapsed < 3.0
    # ... and one that accepts connections but never answers: a timeout before the call's deadline.
    with silent_listener() as silent:
        msg, elapsed = timed_error(
            Caller(_host(workroot, {"url": f"http://127.0.0.1:{silent.getsockname()[1]}", "token_env": TOKEN_ENV},
                         call_timeout_ms=2000)),
            "get_dashboard_summary", {"uid": "svc"})
    assert msg.startswith("Grafana is unreachable") or "deadline" in msg, msg
    assert elapsed < 4.0, elapsed
