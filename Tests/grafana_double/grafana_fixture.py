"""Starting the Grafana double for a test, and the content both Grafana test files seed it with.

Used by Tests/e2e/test_grafana_double.py (the official mcp-grafana client against the double) and
Tests/e2e/test_grafana.py (the plugin through mcp-host against the double).
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
from plugin_calls import stop_process  # Tests/e2e (on sys.path: these fixtures serve the e2e tests)

DOUBLE = Path(__file__).resolve().parent / "grafana_double.py"

PROM_DS = {"uid": "prometheus", "type": "prometheus"}
LOKI_DS = {"uid": "loki", "type": "loki"}

# A dashboard with the shapes a reader must handle: a panel-level datasource, a target-level one
# (panel datasource null), a hidden target, a text panel without queries, a collapsed row holding
# panels (one built in a visual editor: no textual query), and two kinds of variables.
SERVICE_DASHBOARD: dict[str, Any] = {
    "uid": "svc", "title": "Service overview", "tags": ["api", "prod"], "timezone": "utc", "refresh": "30s",
    "schemaVersion": 39, "time": {"from": "now-6h", "to": "now"},
    "templating": {"list": [
        {"name": "job", "type": "query", "label": "Job", "datasource": PROM_DS,
         "query": {"query": "label_values(up, job)", "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "current": {"text": "api", "value": "api"}, "multi": False},
        {"name": "code", "type": "custom", "query": "200,500",
         "current": {"text": ["200", "500"], "value": ["200", "500"]}, "multi": True},
    ]},
    "panels": [
        {"id": 1, "type": "timeseries", "title": "Request rate", "datasource": PROM_DS,
         "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
         "targets": [{"refId": "A", "expr": "sum by (code)(rate(http_requests_total[5m]))"},
                     {"refId": "B", "expr": 'sum(rate(http_requests_total{code="500"}[5m]))', "hide": True}]},
        {"id": 2, "type": "stat", "title": "Temperature", "datasource": None,
         "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
         "targets": [{"refId": "A", "expr": "temperature_celsius", "datasource": PROM_DS}]},
        {"id": 5, "type": "text", "title": "Notes", "gridPos": {"x": 0, "y": 8, "w": 24, "h": 3},
         "options": {"content": "on-call: #ops"}},
        {"id": 3, "type": "row", "title": "Details", "collapsed": True, "gridPos": {"x": 0, "y": 11, "w": 24, "h": 1},
         "panels": [
             {"id": 4, "type": "logs", "title": "Errors", "datasource": LOKI_DS,
              "targets": [{"refId": "A", "expr": '{app="api"} |= "error"'}]},
             {"id": 6, "type": "timeseries", "title": "CPU", "datasource": {"uid": "cw", "type": "cloudwatch"},
              "targets": [{"refId": "A", "namespace": "AWS/EC2", "metricName": "CPUUtilization"}]},
         ]},
    ],
}

NODE_DASHBOARD: dict[str, Any] = {
    "uid": "node", "title": "Node exporter", "tags": ["infra"], "time": {"from": "now-1h", "to": "now"},
    "panels": [{"id": 1, "type": "gauge", "title": "Load", "datasource": PROM_DS,
                "targets": [{"refId": "A", "expr": "node_load1"}]}],
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Double:
    """A running grafana_double.py."""

    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path):
        self.url = url
        self.proc = proc
        self.log = log

    def api(self, token: str, org: int | None = None) -> httpx.Client:
        """A client of the double's API as a Grafana client would talk to it."""
        headers = {"Authorization": f"Bearer {token}"}
        if org is not None:
            headers["X-Grafana-Org-Id"] = str(org)
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def running_double(tokens: list[str], prometheus: str | None = None, orgs: tuple[int, ...] = ()) -> Iterator[Double]:
    work = Path(tempfile.mkdtemp(prefix="grafana-double-"))
    log = work / "double.log"
    args = [sys.executable, str(DOUBLE), "--verbose"]
    for t in tokens:
        args += ["--token", t]
    if prometheus:
        args += ["--prometheus", prometheus]
    for o in orgs:
        args += ["--org", str(o)]
    proc = None
    for _attempt in range(3):
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(args + ["--port", str(port)], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        if _wait_ready(url, proc):
            break
        stop_process(proc)
        if "Address already in use" not in log.read_text(errors="replace"):
            raise RuntimeError(f"grafana double did not start:\n{log.read_text(errors='replace')[-3000:]}")
    else:
        raise RuntimeError(f"grafana double did not start:\n{log.read_text(errors='replace')[-3000:]}")
    try:
        yield Double(url, proc, log)
    finally:
        stop_process(proc)
        shutil.rmtree(work, ignore_errors=True)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(url + "/api/health", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


def seed(api: httpx.Client) -> None:
    """Folder "Ops" (uid ops) holding "Service overview" (uid svc); "Node exporter" (uid node) in General;
    a Loki datasource (uid loki). Goes through the double's public API, as a Grafana admin would."""
    r = api.post("/api/folders", json={"uid": "ops", "title": "Ops"})
    r.raise_for_status()
    for dash, folder in ((SERVICE_DASHBOARD, "ops"), (NODE_DASHBOARD, "")):
        r = api.post("/api/dashboards/db", json={"dashboard": copy.deepcopy(dash), "folderUid": folder, "overwrite": False})
        r.raise_for_status()
    r = api.post("/api/datasources", json={"uid": "loki", "name": "Logs", "type": "loki", "url": "http://loki:3100",
                                           "access": "proxy"})
    r.raise_for_status()
