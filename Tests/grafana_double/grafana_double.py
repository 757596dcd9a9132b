"""A test double of the Grafana HTTP API (Grafana 11), for the parts the Grafana plugin and the official
mcp-grafana client use. It follows ../shared/BACKENDS.md §4 and Grafana's documented API:

  GET    /api/health                                   no auth: {"commit","database":"ok","version"}
  GET    /api/frontend/settings                        {"buildInfo":{"version",...}}
  *      /apis/...                                     404 (the k8s-style API is absent: clients fall back)
  GET    /api/search?query&type&tag&folderUIDs&dashboardUIDs&starred&limit&page
  GET    /api/dashboards/uid/{uid}                     {"dashboard","meta"}; 404 {"message":"Dashboard not found"}
  POST   /api/dashboards/db                            {"dashboard","folderUid","message","overwrite"}
  DELETE /api/dashboards/uid/{uid}
  GET    /api/datasources, /api/datasources/{id}, /api/datasources/uid/{uid}, /api/datasources/name/{name}
  POST   /api/datasources                              409 on a duplicate name or uid
  GET    /api/folders?parentUid&limit&page (one level: the root, or parentUid's children), /api/folders/{uid}
  POST   /api/folders {"title","uid"?,"parentUid"?}
  GET|POST /api/datasources/uid/{uid}/resources/{path}  Prometheus datasources: forwarded to the datasource's
  *      /api/datasources/proxy/uid/{uid}/{path}         url (query string, form body); 502 when nothing answers

Saving a dashboard follows Grafana's dashboard service (pkg/services/dashboards, errors.go):
  empty title                                  -> 400 {"message":"Dashboard title cannot be empty","status":"empty-name"}
  unknown folderUid                            -> 400 {"message":"folder not found"}
  same uid, other version, overwrite false     -> 412 {"message":"The dashboard has been changed by someone else","status":"version-mismatch"}
  same title in the folder, overwrite false    -> 412 {"message":"A dashboard with the same name in the folder already exists","status":"name-exists"}
  an "id" that matches nothing                 -> 404 {"message":"Dashboard not found","status":"not-found"}
  success: version + 1 (1 for a new dashboard) -> {"id","uid","url","status":"success","version","slug","folderUid"}

Folders (pkg/services/folder): an existing uid -> 409 {"message":"a folder/dashboard with the same uid already
exists"}; the same title under the same parent -> 409; an unknown parentUid or uid -> 404 {"message":"folder not found"}.
Datasources (pkg/services/datasources): a duplicate name -> 409 {"message":"data source with the same name already
exists"}; unknown -> 404 {"message":"Data source not found"}.

Auth: every /api route except /api/health needs `Authorization: Bearer <token>` (one of --token):
no header -> 401 {"message":"Unauthorized"}; a wrong token -> 401 {"message":"invalid API key"}.
Organizations: `X-Grafana-Org-Id` picks the org (default 1); each org has its own dashboards, folders and
datasources.
Not from Grafana's sources (chosen here; clients only rely on the status): an org not given with --org ->
403 {"message":"Access denied to organization"}; a datasource without name or type -> 400 {"message":
"Name and type are required"}; a resource call to a non-Prometheus datasource -> 404 {"message":"Not found"}.

  python grafana_double.py --port P --token T [--token T2] [--prometheus URL] [--org 2] [--verbose]
With --prometheus, org 1 has a provisioned Prometheus datasource (uid "prometheus", name "Prometheus", default)
whose url is that server. Prints "ready <port>" on stdout when serving.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import secrets
import string
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "11.3.0"


class ApiError(Exception):
    def __init__(self, status: int, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"message": message, **(extra or {})}


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug


def new_uid() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14))


class Org:
    def __init__(self, org_id: int):
        self.id = org_id
        self.dashboards: dict[str, dict[str, Any]] = {}   # uid -> {"dashboard", "folderUid", "created", ...}
        self.folders: dict[str, dict[str, Any]] = {}
        self.datasources: list[dict[str, Any]] = []


class State:
    def __init__(self, tokens: list[str], orgs: list[int], prometheus: str | None):
        self.lock = threading.Lock()
        self.tokens = set(tokens)
        self.orgs = {o: Org(o) for o in sorted({1, *orgs})}
        self.next_id = 1
        if prometheus:
            self.add_datasource(self.orgs[1], {"name": "Prometheus", "type": "prometheus", "uid": "prometheus",
                                               "url": prometheus, "access": "proxy", "isDefault": True,
                                               "jsonData": {"httpMethod": "POST"}})

    def take_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    # -- datasources ---------------------------------------------------------------------------
    def add_datasource(self, org: Org, body: dict[str, Any]) -> dict[str, Any]:
        name, kind = body.get("name"), body.get("type")
        if not isinstance(name, str) or not name or not isinstance(kind, str) or not kind:
            raise ApiError(400, "Name and type are required")
        if any(d["name"] == name for d in org.datasources):
            raise ApiError(409, "data source with the same name already exists")
        uid = body.get("uid") or new_uid()
        if any(d["uid"] == uid for d in org.datasources):
            raise ApiError(409, "data source with the same uid already exists")
        secure = body.get("secureJsonData") or {}
        ds = {"id": self.take_id(), "uid": uid, "orgId": org.id, "name": name, "type": kind,
              "typeName": kind.capitalize(), "typeLogoUrl": f"public/app/plugins/datasource/{kind}/img/logo.svg",
              "access": body.get("access") or "proxy", "url": body.get("url") or "", "user": body.get("user") or "",
              "database": body.get("database") or "", "basicAuth": bool(body.get("basicAuth")),
              "basicAuthUser": body.get("basicAuthUser") or "", "withCredentials": bool(body.get("withCredentials")),
              "isDefault": bool(body.get("isDefault")), "jsonData": body.get("jsonData") or {},
              "secureJsonFields": {k: True for k in secure}, "version": 1, "readOnly": False}
        if ds["isDefault"]:
            for other in org.datasources:
                other["isDefault"] = False
        org.datasources.append(ds)
        return ds

    def find_datasource(self, org: Org, key: str, value: Any) -> dict[str, Any]:
        for d in org.datasources:
            if str(d[key]) == str(value):
                return d
        raise ApiError(404, "Data source not found")

    # -- folders -------------------------------------------------------------------------------
    def folder_view(self, f: dict[str, Any]) -> dict[str, Any]:
        out = {"id": f["id"], "uid": f["uid"], "orgId": f["orgId"], "title": f["title"],
               "url": f"/dashboards/f/{f['uid']}/{slugify(f['title'])}", "hasAcl": False, "canSave": True,
               "canEdit": True, "canAdmin": True, "canDelete": True, "createdBy": "service-account",
               "created": f["created"], "updatedBy": "service-account", "updated": f["updated"], "version": f["version"]}
        if f.get("parentUid"):
            out["parentUid"] = f["parentUid"]
        return out

    def add_folder(self, org: Org, body: dict[str, Any]) -> dict[str, Any]:
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiError(400, "folder title cannot be empty")
        uid = body.get("uid") or new_uid()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
            raise ApiError(400, "uid contains illegal characters")
        if uid in org.folders or uid in org.dashboards:
            raise ApiError(409, "a folder/dashboard with the same uid already exists")
        parent = body.get("parentUid") or None
        if parent is not None and parent not in org.folders:
            raise ApiError(404, "folder not found")
        if any(f["title"].lower() == title.lower() and f.get("parentUid") == parent for f in org.folders.values()):
            raise ApiError(409, "a folder with the same name already exists in the current location")
        stamp = now_iso()
        f = {"id": self.take_id(), "uid": uid, "orgId": org.id, "title": title, "parentUid": parent,
             "created": stamp, "updated": stamp, "version": 1}
        org.folders[uid] = f
        return self.folder_view(f)

    # -- dashboards ----------------------------------------------------------------------------
    def dashboard_url(self, uid: str, title: str) -> str:
        return f"/d/{uid}/{slugify(title)}"

    def save_dashboard(self, org: Org, body: dict[str, Any]) -> dict[str, Any]:
        dash = body.get("dashboard")
        if not isinstance(dash, dict):
            raise ApiError(400, "bad request data")
        dash = json.loads(json.dumps(dash))
        title = dash.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiError(400, "Dashboard title cannot be empty", {"status": "empty-name"})
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in org.folders:
            raise ApiError(400, "folder not found")
        overwrite = bool(body.get("overwrite"))
        uid = dash.get("uid") or ""
        dash_id = dash.get("id")
        existing = org.dashboards.get(uid) if uid else None
        if existing is None and dash_id:
            existing = next((d for d in org.dashboards.values() if d["dashboard"]["id"] == dash_id), None)
            if existing is None:
                raise ApiError(404, "Dashboard not found", {"status": "not-found"})
        if existing is not None and not overwrite and dash.get("version") != existing["dashboard"]["version"]:
            raise ApiError(412, "The dashboard has been changed by someone else", {"status": "version-mismatch"})
        same_name = next((d for d in org.dashboards.values()
                          if d is not existing and d["folderUid"] == folder_uid
                          and d["dashboard"]["title"].lower() == title.lower()), None)
        if same_name is not None:
            if not overwrite:
                raise ApiError(412, "A dashboard with the same name in the folder already exists",
                               {"status": "name-exists"})
            # Grafana: with overwrite, the save replaces the dashboard of that name (takes its id and uid).
            del org.dashboards[same_name["dashboard"]["uid"]]
            existing = same_name
        stamp = now_iso()
        if existing is not None:
            if existing["dashboard"]["uid"] in org.dashboards:
                del org.dashboards[existing["dashboard"]["uid"]]
            dash["id"] = existing["dashboard"]["id"]
            dash["uid"] = existing["dashboard"]["uid"]
            dash["version"] = existing["dashboard"]["version"] + 1
            created = existing["created"]
        else:
            dash["id"] = self.take_id()
            dash["uid"] = uid or new_uid()
            dash["version"] = 1
            created = stamp
        record = {"dashboard": dash, "folderUid": folder_uid, "created": created, "updated": stamp,
                  "message": body.get("message") or ""}
        org.dashboards[dash["uid"]] = record
        slug = slugify(title)
        return {"id": dash["id"], "uid": dash["uid"], "url": self.dashboard_url(dash["uid"], title),
                "status": "success", "version": dash["version"], "slug": slug, "folderUid": folder_uid}

    def get_dashboard(self, org: Org, uid: str) -> dict[str, Any]:
        record = org.dashboards.get(uid)
        if record is None:
            raise ApiError(404, "Dashboard not found")
        dash = record["dashboard"]
        folder = org.folders.get(record["folderUid"]) if record["folderUid"] else None
        meta = {"type": "db", "canSave": True, "canEdit": True, "canAdmin": True, "canStar": True, "canDelete": True,
                "slug": slugify(dash["title"]), "url": self.dashboard_url(dash["uid"], dash["title"]),
                "expires": "0001-01-01T00:00:00Z", "created": record["created"], "updated": record["updated"],
                "updatedBy": "service-account", "createdBy": "service-account", "version": dash["version"],
                "hasAcl": False, "isFolder": False, "folderId": folder["id"] if folder else 0,
                "folderUid": record["folderUid"], "folderTitle": folder["title"] if folder else "General",
                "folderUrl": f"/dashboards/f/{folder['uid']}/{slugify(folder['title'])}" if folder else "",
                "provisioned": False, "provisionedExternalId": "", "annotationsPermissions": None}
        return {"dashboard": dash, "meta": meta}

    def search(self, org: Org, q: dict[str, list[str]]) -> list[dict[str, Any]]:
        query = (q.get("query") or [""])[0].lower()
        kind = (q.get("type") or [""])[0]
        tags = q.get("tag") or []
        folder_uids = [u for v in q.get("folderUIDs") or [] for u in v.split(",") if u]
        dash_uids = [u for v in q.get("dashboardUIDs") or [] for u in v.split(",") if u]
        starred = (q.get("starred") or [""])[0] == "true"
        limit = int((q.get("limit") or ["1000"])[0] or 1000)
        page = max(1, int((q.get("page") or ["1"])[0] or 1))
        hits: list[dict[str, Any]] = []
        if starred:
            return []   # the double keeps no stars
        if kind in ("", "dash-folder") and not tags and not dash_uids:
            for f in org.folders.values():
                if query and query not in f["title"].lower():
                    continue
                if folder_uids and (f.get("parentUid") or "general") not in folder_uids:
                    continue
                hits.append({"id": f["id"], "uid": f["uid"], "title": f["title"], "uri": f"db/{slugify(f['title'])}",
                             "url": f"/dashboards/f/{f['uid']}/{slugify(f['title'])}", "slug": "",
                             "type": "dash-folder", "tags": [], "isStarred": False, "sortMeta": 0})
        if kind in ("", "dash-db"):
            for record in org.dashboards.values():
                d = record["dashboard"]
                if query and query not in d["title"].lower():
                    continue
                dtags = d.get("tags") or []
                if any(t not in dtags for t in tags):
                    continue
                if folder_uids and (record["folderUid"] or "general") not in folder_uids:
                    continue
                if dash_uids and d["uid"] not in dash_uids:
                    continue
                hit = {"id": d["id"], "uid": d["uid"], "title": d["title"], "uri": f"db/{slugify(d['title'])}",
                       "url": self.dashboard_url(d["uid"], d["title"]), "slug": "", "type": "dash-db",
                       "tags": dtags, "isStarred": False, "sortMeta": 0}
                folder = org.folders.get(record["folderUid"]) if record["folderUid"] else None
                if folder:
                    hit.update({"folderId": folder["id"], "folderUid": folder["uid"], "folderTitle": folder["title"],
                                "folderUrl": f"/dashboards/f/{folder['uid']}/{slugify(folder['title'])}"})
                hits.append(hit)
        hits.sort(key=lambda h: (h["type"] != "dash-folder", h["title"].lower()))
        return hits[(page - 1) * limit: page * limit]


class Handler(BaseHTTPRequestHandler):
    server_version = "Grafana-double"
    state: State

    verbose = False

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.verbose:   # --verbose: one line a request on stderr (the tests' log file)
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self._body() or b"null")
        except json.JSONDecodeError:
            raise ApiError(400, "bad request data")
        if not isinstance(body, dict):
            raise ApiError(400, "bad request data")
        return body

    def _org(self) -> Org:
        auth = self.headers.get("Authorization") or ""
        if not auth:
            raise ApiError(401, "Unauthorized")
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] not in self.state.tokens:
            raise ApiError(401, "invalid API key")
        raw = self.headers.get("X-Grafana-Org-Id")
        org_id = 1
        if raw:
            try:
                org_id = int(raw)
            except ValueError:
                raise ApiError(400, "invalid X-Grafana-Org-Id header")
        org = self.state.orgs.get(org_id)
        if org is None:
            raise ApiError(403, "Access denied to organization")
        return org

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        path, q = parsed.path, urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        try:
            if path == "/api/health" and method == "GET":
                return self._send(200, {"commit": "double", "database": "ok", "version": VERSION})
            if path.startswith("/apis"):
                return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                        "message": "the server could not find the requested resource",
                                        "reason": "NotFound", "code": 404})
            if not path.startswith("/api/"):
                raise ApiError(404, "Not found")
            org = self._org()
            m = re.fullmatch(r"/api/datasources/(?:uid/([^/]+)/resources|proxy/uid/([^/]+))(/.*)?", path)
            if m:
                return self._forward(org, urllib.parse.unquote(m.group(1) or m.group(2)), m.group(3) or "/",
                                     parsed.query, method)
            with self.state.lock:
                status, body = self._route(org, method, path, q)
            self._send(status, body)
        except ApiError as e:
            self._send(e.status, e.body)

    def _route(self, org: Org, method: str, path: str, q: dict[str, list[str]]) -> tuple[int, Any]:
        s = self.state
        if path == "/api/frontend/settings" and method == "GET":
            return 200, {"buildInfo": {"version": VERSION, "commit": "double", "edition": "Open Source",
                                       "env": "production"}, "appUrl": f"http://{self.headers.get('Host')}/"}
        if path == "/api/search" and method == "GET":
            return 200, s.search(org, q)
        if path == "/api/dashboards/db" and method == "POST":
            return 200, s.save_dashboard(org, self._json_body())
        m = re.fullmatch(r"/api/dashboards/uid/([^/]+)", path)
        if m:
            uid = urllib.parse.unquote(m.group(1))
            if method == "GET":
                return 200, s.get_dashboard(org, uid)
            if method == "DELETE":
                record = org.dashboards.pop(uid, None)
                if record is None:
                    raise ApiError(404, "Dashboard not found")
                title = record["dashboard"]["title"]
                return 200, {"title": title, "message": f"Dashboard {title} deleted", "id": record["dashboard"]["id"]}
        if path == "/api/datasources":
            if method == "GET":
                return 200, sorted(org.datasources, key=lambda d: d["name"].lower())
            if method == "POST":
                ds = s.add_datasource(org, self._json_body())
                return 200, {"datasource": ds, "id": ds["id"], "message": "Datasource added", "name": ds["name"]}
        for pattern, key in ((r"/api/datasources/uid/([^/]+)", "uid"), (r"/api/datasources/name/([^/]+)", "name"),
                             (r"/api/datasources/(\d+)", "id")):
            m = re.fullmatch(pattern, path)
            if m and method == "GET":
                return 200, s.find_datasource(org, key, urllib.parse.unquote(m.group(1)))
        if path == "/api/folders":
            if method == "GET":
                limit = int((q.get("limit") or ["1000"])[0] or 1000)
                page = max(1, int((q.get("page") or ["1"])[0] or 1))
                # Nested folders (Grafana 10+): the root level, or the children of parentUid.
                parent = (q.get("parentUid") or [""])[0] or None
                if parent is not None and parent not in org.folders:
                    raise ApiError(404, "folder not found")
                folders = sorted((f for f in org.folders.values() if f.get("parentUid") == parent),
                                 key=lambda f: f["title"].lower())
                out = []
                for f in folders[(page - 1) * limit: page * limit]:
                    item = {"id": f["id"], "uid": f["uid"], "title": f["title"]}
                    if f.get("parentUid"):
                        item["parentUid"] = f["parentUid"]
                    out.append(item)
                return 200, out
            if method == "POST":
                return 200, s.add_folder(org, self._json_body())
        m = re.fullmatch(r"/api/folders/([^/]+)", path)
        if m and method == "GET":
            f = org.folders.get(urllib.parse.unquote(m.group(1)))
            if f is None:
                raise ApiError(404, "folder not found")
            return 200, s.folder_view(f)
        raise ApiError(404, "Not found")

    def _forward(self, org: Org, uid: str, rest: str, query: str, method: str) -> None:
        """A Prometheus datasource's resource/proxy call: passed to the datasource's url as Grafana does."""
        with self.state.lock:
            ds = self.state.find_datasource(org, "uid", uid)
        if "prometheus" not in ds["type"]:
            raise ApiError(404, "Not found")
        body = self._body() if method in ("POST", "PUT") else None
        if not ds["url"]:
            raise ApiError(502, "Bad Gateway")
        target = ds["url"].rstrip("/") + rest + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = self.headers.get("Content-Type") or "application/x-www-form-urlencoded"
        req = urllib.request.Request(target, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return self._send(resp.status, resp.read(), resp.headers.get("Content-Type") or "application/json")
        except urllib.error.HTTPError as e:
            return self._send(e.code, e.read(), e.headers.get("Content-Type") or "application/json")
        except (urllib.error.URLError, OSError):
            raise ApiError(502, "Bad Gateway")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--token", action="append", required=True, help="accepted service-account token (repeatable)")
    p.add_argument("--prometheus", help="URL of the Prometheus behind the provisioned datasource")
    p.add_argument("--org", type=int, action="append", default=[], help="an organization besides 1 (repeatable)")
    p.add_argument("--verbose", action="store_true", help="log each request line on stderr")
    args = p.parse_args()
    Handler.state = State(args.token, args.org, args.prometheus)
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
