"""A test double of the TiFlux REST API v2 (https://api.tiflux.com/api/v2), for the TiFlux plugin's tests.

TiFlux is SaaS: nothing can run here. This double follows TiFlux's public documentation ("Tiflux Official
API" v2 OpenAPI document, read from the mirror leoalves43/dashboard-tiflux docs/reference/openapi-spec-tiflux.json)
and what TiFlux's own MCP server (tiflux/tiflux-mcp, src/api/tiflux-api.js and src/tools/) sends and reads;
../shared/BACKENDS.md §8 lists the facts and their sources.

What it follows:
  * `Authorization: Bearer <api key>`; a missing or unknown key → 401
    {"error_code": 40101, "message": "Problems with Authorization", "detail": {...}}.
    Each key is one organization (account) with its own clients, desks, users and tickets, so two keys
    never see each other's data (ticket numbers are per organization: both accounts have a ticket #1).
  * Every response carries RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (a datetime).
  * Lists: `offset` = page number (≥ 1, default 1), `limit` = page size (1..200, default 20); the body is a
    bare JSON array and `X-Total-Items` holds the number of items matching the filters.
    Non-numeric or out-of-range values → 422 {"error_code": 42201, "message": "Problems with query or path
    parameters values", "detail": {"limit": ["is not a number"]}}; booleans must be literally true/false;
    id lists are CSV of at most 15 unique integers.
  * Errors: {"error_code", "message", "detail": {"<field>|error": ["..."]}}; 404 40401 "Cannot find record"
    ("Couldn't find Client with 'id'=\"9\"", "Couldn't find ServiceDesk::Ticket with ticket_number = 9": the SPEC's examples);
    422 42202 body attributes; 42206 close/cancel conditions; 42207 reopen conditions; 403 40301 permission.
  * Routes: GET/PUT /tickets/{n}, GET/POST /tickets (POST is multipart/form-data; JSON gets 415),
    PUT /tickets/{n}/close|cancel|reopen, GET/POST /tickets/{n}/answers (POST multipart), GET /clients,
    GET /clients/{id}, GET /users (admin keys only), GET /desks.
  Tickets are listed newest number first, as in the SPEC's examples; the 42201 messages are the SPEC's.
  Choices where the documentation is silent (BACKENDS.md §8 "Uncertain"): other lists in ascending id
  order; limit > 200 refused with 422; the 42202 wording for unknown or missing body attributes (a desk
  that does not require a service catalog requires `priority_id`, as the SPEC says for POST /tickets);
  the message texts of 42206 / 42207 (only their codes are known).

Test controls (not part of TiFlux's API; used in-process by the pytest fixture):
  fail_next(status, times, retry_after=..., method=..., path_prefix=...)  answer the next matching requests
      with `status` (429 carries error 42901 and, when given, Retry-After), then behave normally again;
  requests                                                                 every request received, in order.

  python tiflux_double.py [--port P]     serves the sample accounts (keys printed on stdout) until interrupted.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_PREFIX = "/api/v2"
RATE_LIMIT = 120
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class APIError(Exception):
    def __init__(self, status: int, code: int, message: str, detail: dict[str, list[str]],
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error_code": self.code, "message": self.message, "detail": self.detail}


def bad_param(name: str, problem: str) -> APIError:
    return APIError(422, 42201, "Problems with query or path parameters values", {name: [problem]})


def bad_attribute(name: str, problem: str) -> APIError:
    return APIError(422, 42202, "Problems with body attributes values", {name: [problem]})


def not_found(model: str, key: str, value: Any) -> APIError:
    return APIError(404, 40401, "Cannot find record", {"error": [f"Couldn't find {model} with '{key}'=\"{value}\""]})


def ticket_not_found(number: Any) -> APIError:
    # The SPEC's wording for tickets (GET/POST /tickets/{n}/answers examples).
    return APIError(404, 40401, "Cannot find record", {"error": [f"Couldn't find ServiceDesk::Ticket with ticket_number = {number}"]})


def iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ------------------------------------------------------------------------------------ data --

@dataclass
class Account:
    """One TiFlux organization, reached with one API key."""
    name: str
    me: int  # the user the key belongs to
    users: list[dict[str, Any]]
    clients: list[dict[str, Any]]
    desks: list[dict[str, Any]]
    stages: dict[int, list[dict[str, Any]]]  # desk id -> stages
    statuses: list[dict[str, Any]]
    priorities: list[dict[str, Any]]
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    answers: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    next_answer_id: int = 1000

    def user(self, uid: int | None) -> dict[str, Any] | None:
        return next((u for u in self.users if u["id"] == uid), None)

    def client(self, cid: int) -> dict[str, Any] | None:
        return next((c for c in self.clients if c["id"] == cid), None)

    def desk(self, did: int) -> dict[str, Any] | None:
        return next((d for d in self.desks if d["id"] == did), None)

    def stage(self, desk_id: int, sid: int) -> dict[str, Any] | None:
        return next((s for s in self.stages.get(desk_id, []) if s["id"] == sid), None)

    def status(self, sid: int) -> dict[str, Any] | None:
        return next((s for s in self.statuses if s["id"] == sid), None)

    def priority(self, pid: int | None) -> dict[str, Any] | None:
        return next((p for p in self.priorities if p["id"] == pid), None)


def _statuses() -> list[dict[str, Any]]:
    return [
        {"id": 1, "name": "Aberto", "default_open": True, "default_close": False, "default_canceled": False},
        {"id": 2, "name": "Fechado", "default_open": False, "default_close": True, "default_canceled": False},
        {"id": 3, "name": "Cancelado", "default_open": False, "default_close": False, "default_canceled": True},
        {"id": 4, "name": "Aguardando cliente", "default_open": False, "default_close": False, "default_canceled": False},
    ]


def _user(uid: int, name: str, email: str, kind: str, active: bool = True) -> dict[str, Any]:
    return {"id": uid, "_type": kind, "active": active, "email": email, "gauth_enabled": False,
            "last_login_at": "2024-02-28T12:00:00Z", "name": name, "technical_group_id": 1 if kind != "client" else None}


def _client(cid: int, name: str, social: str, active: bool = True) -> dict[str, Any]:
    return {"id": cid, "name": name, "social": social, "social_revenue": f"{social} LTDA", "status": active}


def _desk(did: int, name: str, display: str, active: bool = True) -> dict[str, Any]:
    return {"id": did, "active": active, "appointment_type": "hours", "display_name": display, "name": name}


def _stages(*specs: tuple[int, str]) -> list[dict[str, Any]]:
    return [{"id": sid, "name": name, "index": i, "first_stage": i == 0, "last_stage": i == len(specs) - 1,
             "max_time": None} for i, (sid, name) in enumerate(specs)]


T0 = parse_iso("2024-03-01T10:00:00Z")


def _ticket(n: int, title: str, desk_id: int, stage_id: int, client_id: int, responsible_id: int | None,
            created: float, state: str = "open", priority_id: int | None = 1) -> dict[str, Any]:
    return {"ticket_number": n, "title": title, "description": f"<p>{title}</p><p>Reported by the client.</p>",
            "desk_id": desk_id, "stage_id": stage_id, "client_id": client_id, "responsible_id": responsible_id,
            "priority_id": priority_id, "status_id": {"open": 1, "closed": 2, "canceled": 3}[state],
            "state": state, "created_at": created, "updated_at": created,
            "solved_at": created + 7200 if state != "open" else None, "reopen_count": 0, "last_reopen_date": None,
            "followers": "", "requestor": {"id": 900 + client_id, "name": "Requester", "email": "req@client.example",
                                           "ramal": None, "telephone": None},
            "priority_change_reason": None, "created_by_id": 1, "created_by_way_of": "Tiflux Web",
            "ticket_reference_number": None}


def sample_accounts() -> dict[str, Account]:
    """Two organizations. Acme: 25 tickets (#3, #6 closed, #9 canceled), answers on #1. Globex: 3 tickets."""
    acme = Account(
        name="Acme Serviços", me=8,
        users=[_user(7, "Ana Souza", "ana@acme.example", "attendant"), _user(8, "Bruno Lima", "bruno@acme.example", "admin"),
               _user(9, "Carla Dias", "carla@acme.example", "attendant", active=False),
               _user(15, "Paulo Padeiro", "paulo@padaria.example", "client")],
        clients=[_client(10, "Padaria Pão Quente", "Padaria"), _client(11, "Oficina Rápida", "Oficina"),
                 _client(12, "Antiga Comércio", "Antiga", active=False)],
        desks=[_desk(1, "Suporte N1", "Suporte Nível 1"), _desk(2, "Infra", "Infraestrutura"),
               _desk(3, "Legado", "Mesa antiga", active=False)],
        stages={1: _stages((100, "A fazer"), (101, "Em atendimento"), (102, "Concluído")),
                2: _stages((200, "Triagem"), (201, "Execução"), (202, "Encerrado")),
                3: _stages((300, "Único"))},
        statuses=_statuses(), priorities=[{"id": 1, "name": "Baixa", "order": 1, "start_time": None, "end_time": None},
                                          {"id": 2, "name": "Alta", "order": 2, "start_time": None, "end_time": None}])
    topics = ["Impressora offline", "Sem acesso ao e-mail", "Nota fiscal não emite", "Wi-Fi lento", "Backup falhou"]
    for n in range(1, 26):
        desk = 1 if n % 2 else 2
        state = "closed" if n in (3, 6) else "canceled" if n == 9 else "open"
        stage = acme.stages[desk][-1]["id"] if state != "open" else acme.stages[desk][n % 2]["id"]
        acme.tickets[n] = _ticket(n, f"{topics[n % 5]} #{n}", desk, stage, 10 if n % 3 else 11,
                                  None if n % 5 == 0 else (7 if n % 2 else 8), T0 + (n - 1) * 86400, state,
                                  priority_id=2 if n % 4 == 0 else 1)
    acme.answers[1] = [
        {"id": 501 + i, "answer_origin": "tiflux_web", "answer_time": iso(T0 + 3600 * (i + 1)), "author": "Ana Souza",
         "files_count": i % 2, "name": f"<p>Resposta {i + 1}: verificando &amp; ajustando</p>", "user_id": 7}
        for i in range(3)]

    globex = Account(
        name="Globex Ltda", me=30,
        users=[_user(30, "Diego Rocha", "diego@globex.example", "admin"), _user(31, "Elisa Prado", "elisa@globex.example", "attendant")],
        clients=[_client(50, "Globex Matriz", "Globex")],
        desks=[_desk(5, "Atendimento", "Atendimento Geral")],
        stages={5: _stages((500, "Novo"), (501, "Fechamento"))},
        statuses=_statuses(), priorities=[{"id": 1, "name": "Normal", "order": 1, "start_time": None, "end_time": None}])
    for n, title in ((1, "VPN da filial caiu"), (2, "Troca de notebook"), (3, "Licença expirada")):
        globex.tickets[n] = _ticket(n, f"Globex: {title}", 5, 500, 50, 31, T0 + n * 3600)
    return {"acme": acme, "globex": globex}


SAMPLE_KEYS = {"acme": "tfx-acme-3c1f9e0b7d2a4c58a1e6f00d", "globex": "tfx-globex-9b2e7c4d1f0a6e35b8d4aa1c"}


# --------------------------------------------------------------------------- representation --

def full_ticket(acc: Account, t: dict[str, Any]) -> dict[str, Any]:
    desk = acc.desk(t["desk_id"])
    stage = acc.stage(t["desk_id"], t["stage_id"])
    resp = acc.user(t["responsible_id"])
    closed = t["state"] != "open"
    return {
        "ticket_number": t["ticket_number"], "title": t["title"], "description": t["description"],
        "client": acc.client(t["client_id"]), "desk": desk,
        "stage": {k: stage[k] for k in ("id", "first_stage", "last_stage", "max_time", "name")} if stage else None,
        "status": acc.status(t["status_id"]), "priority": acc.priority(t["priority_id"]), "responsible": resp,
        "requestor": t["requestor"], "services_catalog": None,
        "sla_info": {"attend_expiration": None, "attend_sla": None, "attend_sla_solution": None,
                     "desactivate_sla_reason": None, "solve_expiration": None, "solved_in_time": closed,
                     "stage_expiration": None, "stopped": False},
        "followers": t["followers"], "is_closed": closed, "is_grouped": False, "is_revised": False,
        "is_duplicating": False, "reopen_count": t["reopen_count"], "last_reopen_date": t["last_reopen_date"],
        "priority_change_reason": t["priority_change_reason"], "created_at": iso(t["created_at"]),
        "created_by_id": t["created_by_id"], "created_by_way_of": t["created_by_way_of"], "updated_at": iso(t["updated_at"]),
        "updated_by_id": acc.me, "ticket_children": [],
        "ticket_reference": {"ticket_number": t["ticket_reference_number"]} if t["ticket_reference_number"] else {},
        "url_internal_path": f"/tickets/{t['ticket_number']}", "url_external_path": f"/t/{t['ticket_number']}",
        "worked_hours": "00:00", "feedback": None, "custom_fields": None, "created_with_ai": False,
        "last_answer_type": None, "closed_ticket_total_spent_solving": None,
    }


def list_item(acc: Account, t: dict[str, Any]) -> dict[str, Any]:
    def slim(obj: dict[str, Any] | None) -> dict[str, Any] | None:
        return {"id": obj["id"], "name": obj["name"]} if obj else None
    full = full_ticket(acc, t)
    return {"ticket_number": t["ticket_number"], "title": t["title"], "client": slim(acc.client(t["client_id"])),
            "desk": slim(acc.desk(t["desk_id"])), "stage": slim(acc.stage(t["desk_id"], t["stage_id"])),
            "status": slim(acc.status(t["status_id"])), "priority": slim(acc.priority(t["priority_id"])),
            "responsible": slim(acc.user(t["responsible_id"])), "is_closed": t["state"] != "open",
            **{k: full[k] for k in ("created_at", "created_by_id", "created_by_way_of", "followers", "is_revised",
                                    "last_answer_type", "reopen_count", "requestor", "services_catalog", "sla_info",
                                    "updated_at", "updated_by_id")}}


# ------------------------------------------------------------------------------- the server --

@dataclass
class Fault:
    status: int
    times: int
    retry_after: str | None = None
    method: str | None = None
    path_prefix: str | None = None


class TiFluxDouble:
    """The double: `start()` serves on a free loopback port and returns the base URL (…/api/v2)."""

    def __init__(self, accounts: dict[str, Account] | None = None, keys: dict[str, str] | None = None):
        self.accounts = accounts or sample_accounts()
        self.keys = {key: name for name, key in (keys or SAMPLE_KEYS).items()}
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------------------
    def start(self) -> str:
        double = self

        class Handler(_Handler):
            pass
        Handler.double = double
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="tiflux-double", daemon=True)
        self.thread.start()
        return self.base_url

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base_url(self) -> str:
        assert self.server
        return f"http://127.0.0.1:{self.server.server_address[1]}{API_PREFIX}"

    def fail_next(self, status: int, times: int = 1, retry_after: str | int | None = None,
                  method: str | None = None, path_prefix: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(status, times, None if retry_after is None else str(retry_after), method, path_prefix))

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()

    def requests_to(self, method: str, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["method"] == method and r["path"] == path]

    # -- dispatch -----------------------------------------------------------------------------
    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if (f.method is None or f.method == method) and (f.path_prefix is None or path.startswith(f.path_prefix)):
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    return f
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: TiFluxDouble

    def log_message(self, *_args: Any) -> None:  # quiet: the tests read `double.requests`
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        double = self.double
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        auth = self.headers.get("authorization") or ""
        account_name = double.keys.get(auth[7:]) if auth.startswith("Bearer ") else None
        record = {"method": method, "path": path, "query": query, "raw_query": url.query, "account": account_name,
                  "auth": "ok" if account_name else ("unknown" if auth else "missing"),
                  "content_type": self.headers.get("content-type"), "body": raw, "at": time.monotonic(),
                  "user_agent": self.headers.get("user-agent")}
        with double.lock:
            double.requests.append(record)
        reset = iso(time.time() + 60)
        rate_headers = {"RateLimit-Limit": str(RATE_LIMIT), "RateLimit-Remaining": str(RATE_LIMIT - 1), "RateLimit-Reset": reset}
        try:
            fault = double.take_fault(method, path)
            if fault is not None:
                raise self._fault(fault, rate_headers)
            if not path.startswith(API_PREFIX + "/"):
                raise APIError(404, 40401, "Cannot find record", {"error": ["Route not found"]})
            if account_name is None:
                raise APIError(401, 40101, "Problems with Authorization", {"error": ["You need to sign in before continuing."]})
            acc = double.accounts[account_name]
            with double.lock:  # one organization's data changes one request at a time
                status, body, headers = route(acc, method, path[len(API_PREFIX):], query, raw,
                                              self.headers.get("content-type") or "")
            self._send(status, body, {**rate_headers, **headers})
        except APIError as e:
            self._send(e.status, e.body(), {**rate_headers, **e.headers})

    @staticmethod
    def _fault(fault: Fault, rate_headers: dict[str, str]) -> APIError:
        if fault.status == 429:
            headers = {"RateLimit-Remaining": "0"}
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            return APIError(429, 42901, "Too Many Requests", {"error": ["Rate limit exceeded, try again later"]}, headers)
        return APIError(fault.status, fault.status * 100 + 1, "Internal Server Error" if fault.status == 500 else "Service Unavailable",
                        {"error": [f"injected failure {fault.status}"]})

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


# --------------------------------------------------------------------------------- routes --

def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int_param(query: dict[str, list[str]], name: str, default: int, lo: int, hi: int | None = None) -> int:
    text = _one(query, name)
    if text is None:
        return default
    if not re.fullmatch(r"-?\d+", text):
        raise bad_param(name, "is not a number")
    value = int(text)
    if value < lo:
        raise bad_param(name, f"must be greater than or equal to {lo}")
    if hi is not None and value > hi:
        raise bad_param(name, f"must be less than or equal to {hi}")
    return value


def _bool_param(query: dict[str, list[str]], name: str) -> bool | None:
    text = _one(query, name)
    if text is None:
        return None
    if text not in ("true", "false"):
        label = name.replace("_", " ").capitalize()
        raise bad_param(name, f"{text} is not a valid option. {label} must be 'true' or 'false'")
    return text == "true"


def _ids_param(query: dict[str, list[str]], name: str) -> list[int] | None:
    text = _one(query, name)
    if text is None:
        return None
    parts = text.split(",")
    if not all(re.fullmatch(r"\d+", p) for p in parts):
        raise bad_param(name, "must be a comma-separated list of integers")
    if len(parts) > 15:
        raise bad_param(name, "cannot have more than 15 items")
    if len(set(parts)) != len(parts):
        raise bad_param(name, "cannot contain duplicate values")
    return [int(p) for p in parts]


def _datetime_param(query: dict[str, list[str]], name: str) -> float | None:
    text = _one(query, name)
    if text is None:
        return None
    if not DATETIME_RE.match(text):
        raise bad_param(name, "invalid datetime")
    return parse_iso(text)


def _page(items: list[Any], query: dict[str, list[str]]) -> tuple[int, list[Any], dict[str, str]]:
    offset = _int_param(query, "offset", 1, 1)
    limit = _int_param(query, "limit", 20, 1, 200)
    return 200, items[(offset - 1) * limit: offset * limit], {"X-Total-Items": str(len(items))}


def _form(raw: bytes, content_type: str) -> dict[str, str]:
    """multipart/form-data text fields (RFC 7578)."""
    if not content_type.startswith("multipart/form-data"):
        raise APIError(415, 41501, "Unsupported Media Type", {"error": ["Content-Type must be multipart/form-data"]})
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise APIError(400, 40001, "Bad Request", {"error": ["multipart boundary missing"]})
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, str] = {}
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if name:
            fields[name.group(1).decode()] = value.decode()
    return fields


def _json(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise APIError(400, 40001, "Bad Request", {"error": ["body is not valid JSON"]})
    if not isinstance(value, dict):
        raise APIError(400, 40001, "Bad Request", {"error": ["body must be a JSON object"]})
    return value


def _ticket_or_404(acc: Account, number: str) -> dict[str, Any]:
    if not re.fullmatch(r"\d+", number):
        raise bad_param("ticket_number", "is not a number")
    t = acc.tickets.get(int(number))
    if t is None:
        raise ticket_not_found(number)
    return t


def route(acc: Account, method: str, path: str, query: dict[str, list[str]], raw: bytes,
          content_type: str) -> tuple[int, Any, dict[str, str]]:
    parts = [p for p in path.split("/") if p]
    if parts == ["tickets"] and method == "GET":
        return list_tickets(acc, query)
    if parts == ["tickets"] and method == "POST":
        return create_ticket(acc, _form(raw, content_type))
    if len(parts) == 2 and parts[0] == "tickets":
        t = _ticket_or_404(acc, parts[1])
        if method == "GET":
            return 200, full_ticket(acc, t), {}
        if method == "PUT":
            return update_ticket(acc, t, _json(raw))
    if len(parts) == 3 and parts[0] == "tickets" and parts[2] in ("close", "cancel", "reopen") and method == "PUT":
        return transition(acc, _ticket_or_404(acc, parts[1]), parts[2], _json(raw))
    if len(parts) == 3 and parts[0] == "tickets" and parts[2] == "answers":
        t = _ticket_or_404(acc, parts[1])
        answers = acc.answers.setdefault(t["ticket_number"], [])
        if method == "GET":
            return _page(answers, query)
        if method == "POST":
            return add_answer(acc, answers, _form(raw, content_type))
    if parts == ["clients"] and method == "GET":
        active = _bool_param(query, "active")
        name = (_one(query, "name") or "").lower()
        found = [{k: c[k] for k in ("id", "name", "social", "social_revenue", "status")} for c in acc.clients
                 if (active is None or c["status"] == active) and name in c["name"].lower()]
        return _page(found, query)
    if len(parts) == 2 and parts[0] == "clients" and method == "GET":
        c = acc.client(int(parts[1])) if parts[1].isdigit() else None
        if c is None:
            raise not_found("Client", "id", parts[1])
        detail = {**c, "email_financial": f"financeiro@{c['social'].lower()}.example",
                  "desks": [{"id": d["id"], "name": d["name"], "display_name": d["display_name"]} for d in acc.desks if d["active"]],
                  "technical_groups": [{"id": 1, "name": "N1"}]}
        if _bool_param(query, "show_entities"):
            detail["entities"] = []
        return 200, detail, {}
    if parts == ["users"] and method == "GET":
        me = acc.user(acc.me)
        if not me or me["_type"] != "admin":
            raise APIError(403, 40301, "Access Denied - You cannot access this route", {"error": ["You are not authorized to access this page."]})
        kind = _one(query, "type")
        if kind is not None and kind not in ("client", "attendant", "admin"):
            raise bad_param("type", "is not included in the list")
        active = _bool_param(query, "active")
        found = [u for u in acc.users if (kind is None or u["_type"] == kind) and (active is None or u["active"] == active)]
        return _page(found, query)
    if parts == ["desks"] and method == "GET":
        active = _bool_param(query, "active")
        name = (_one(query, "name") or "").lower()
        found = [d for d in acc.desks if (active is None or d["active"] == active)
                 and (name in d["name"].lower() or name in d["display_name"].lower())]
        return _page(found, query)
    raise APIError(404, 40401, "Cannot find record", {"error": ["Route not found"]})


def list_tickets(acc: Account, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    filter_by = _one(query, "filter_by")
    if filter_by is not None and filter_by not in ("open", "closed", "canceled", "all"):
        raise bad_param("filter_by", f"{filter_by} is not a valid option. Filter by must be 'open', 'closed', 'canceled' or 'all'")
    is_closed = _bool_param(query, "is_closed")
    if filter_by is None:  # filter_by wins over is_closed
        filter_by = "closed_or_canceled" if is_closed else "open"
    filters = {name: _ids_param(query, name) for name in ("desk_ids", "client_ids", "stage_ids", "responsible_ids")}
    status_id = _int_param(query, "status_id", 0, 1) if _one(query, "status_id") is not None else None
    email = _one(query, "requestor_email")
    date_type = _one(query, "date_type") or "created_at"
    if date_type not in ("created_at", "solved_in_time"):
        raise bad_param("date_type", "is not included in the list")
    start, end = _datetime_param(query, "start_datetime"), _datetime_param(query, "end_datetime")
    if start is not None and end is not None and end <= start:
        raise bad_param("end_datetime", f"must be greater than :start_datetime ({_one(query, 'start_datetime')})")

    def keep(t: dict[str, Any]) -> bool:
        state = t["state"]
        if filter_by == "open" and state != "open" or filter_by == "closed" and state != "closed" \
                or filter_by == "canceled" and state != "canceled" or filter_by == "closed_or_canceled" and state == "open":
            return False
        for name, key in (("desk_ids", "desk_id"), ("client_ids", "client_id"), ("stage_ids", "stage_id"),
                          ("responsible_ids", "responsible_id")):
            if filters[name] is not None and t[key] not in filters[name]:
                return False
        if status_id is not None and t["status_id"] != status_id:
            return False
        if email is not None and t["requestor"]["email"] != email:
            return False
        moment = t["created_at"] if date_type == "created_at" else t["solved_at"]
        if (start is not None or end is not None) and moment is None:
            return False
        if start is not None and moment < start or end is not None and moment > end:
            return False
        return True
    items = [list_item(acc, t) for n, t in sorted(acc.tickets.items(), reverse=True) if keep(t)]
    return _page(items, query)


def _required_int(fields: dict[str, Any], name: str, required: bool = True) -> int | None:
    value = fields.get(name)
    if value in (None, ""):
        if required:
            raise bad_attribute(name, "can't be blank")
        return None
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value)):
        raise bad_attribute(name, "is not a number")
    return int(value)


def _followers(text: str) -> str:
    for email in filter(None, (e.strip() for e in text.split(","))):
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise bad_attribute("followers", f"Follower email '{email}' is invalid")  # the SPEC's wording
    return text


def create_ticket(acc: Account, f: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    for name in ("title", "description"):
        if not f.get(name, "").strip():
            raise bad_attribute(name, "can't be blank")
    client_id, desk_id = _required_int(f, "client_id"), _required_int(f, "desk_id")
    client, desk = acc.client(client_id), acc.desk(desk_id)
    if client is None or not client["status"]:
        raise bad_attribute("client_id", "is invalid")
    if desk is None or not desk["active"]:
        raise bad_attribute("desk_id", "is invalid")
    stage_id = _required_int(f, "stage_id", False) or acc.stages[desk_id][0]["id"]
    if acc.stage(desk_id, stage_id) is None:
        raise bad_attribute("stage_id", "does not belong to the desk")
    responsible = _required_int(f, "responsible_id", False)
    if responsible is not None and acc.user(responsible) is None:
        raise bad_attribute("responsible_id", "is invalid")
    # Desks here do not require a service catalog, so (SPEC, POST /tickets) they require a priority.
    priority = _required_int(f, "priority_id")
    if acc.priority(priority) is None:
        raise bad_attribute("priority_id", "is invalid")
    parent = _required_int(f, "ticket_reference_number", False)
    if parent is not None and parent not in acc.tickets:
        raise bad_attribute("ticket_reference_number", "is invalid")
    number = max(acc.tickets, default=0) + 1
    now = time.time()
    t = _ticket(number, f["title"], desk_id, stage_id, client_id, responsible, now, priority_id=priority)
    t["description"] = f["description"]
    t["followers"] = _followers(f.get("followers", ""))
    t["ticket_reference_number"] = parent
    t["created_by_id"] = acc.me
    t["created_by_way_of"] = "Tiflux API"
    if f.get("requestor_name") or f.get("requestor_email"):
        t["requestor"] = {"id": None, "name": f.get("requestor_name"), "email": f.get("requestor_email"),
                          "ramal": None, "telephone": f.get("requestor_telephone")}
    acc.tickets[number] = t
    return 201, {"ticket": full_ticket(acc, t)}, {}


def update_ticket(acc: Account, t: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    if t["state"] != "open":
        raise bad_attribute("ticket", "Only open tickets can be updated")
    changes: dict[str, Any] = {}
    for name in ("title", "description", "priority_change_reason"):
        if name in body:
            if not isinstance(body[name], str) or not body[name].strip():
                raise bad_attribute(name, "can't be blank")
            changes[name] = body[name]
    desk_id = t["desk_id"]
    if "desk_id" in body:
        desk_id = _required_int(body, "desk_id")
        if acc.desk(desk_id) is None:
            raise bad_attribute("desk_id", "is invalid")
        changes["desk_id"] = desk_id
        changes["stage_id"] = acc.stages[desk_id][0]["id"]
    if "stage_id" in body:
        sid = _required_int(body, "stage_id")
        if acc.stage(desk_id, sid) is None:
            raise bad_attribute("stage_id", "does not belong to the desk")
        changes["stage_id"] = sid
    if "status_id" in body:
        sid = _required_int(body, "status_id")
        if acc.status(sid) is None:
            raise bad_attribute("status_id", "is invalid")
        changes["status_id"] = sid
    if "priority_id" in body:
        pid = _required_int(body, "priority_id")
        if acc.priority(pid) is None:
            raise bad_attribute("priority_id", "is invalid")
        changes["priority_id"] = pid
    if "responsible_id" in body:
        rid = body["responsible_id"]
        if rid is not None:
            rid = _required_int(body, "responsible_id")
            user = acc.user(rid)
            if user is None or user["_type"] == "client" or not user["active"]:
                raise bad_attribute("responsible_id", "is invalid")
        changes["responsible_id"] = rid
    if "followers" in body:
        if not isinstance(body["followers"], str):
            raise bad_attribute("followers", "must be a string of e-mails separated by commas")
        changes["followers"] = _followers(body["followers"])
    if "ticket_reference_number" in body:
        parent = body["ticket_reference_number"]
        if parent is not None:
            parent = _required_int(body, "ticket_reference_number")
            if parent not in acc.tickets or parent == t["ticket_number"]:
                raise bad_attribute("ticket_reference_number", "is invalid")
        changes["ticket_reference_number"] = parent
    if "requestor_id" in body:
        changes["requestor"] = {**t["requestor"], "id": _required_int(body, "requestor_id")}
    if not changes:
        raise bad_attribute("ticket", "no attribute to update")
    t.update(changes)
    t["updated_at"] = time.time()
    return 200, full_ticket(acc, t), {}


def transition(acc: Account, t: dict[str, Any], action: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    n = t["ticket_number"]
    now = time.time()
    if action in ("close", "cancel"):
        if t["state"] != "open":
            raise APIError(422, 42206, "Conditions to close or cancel the ticket were not met",
                           {"error": [f"Ticket {n} is already {'closed' if t['state'] == 'closed' else 'canceled'}"]})
        t.update(state="closed" if action == "close" else "canceled", status_id=2 if action == "close" else 3,
                 stage_id=acc.stages[t["desk_id"]][-1]["id"], solved_at=now, updated_at=now)
        return 200, {"message": f"Ticket {n} {'closed' if action == 'close' else 'cancelled'} successfully"}, {}
    if t["state"] == "open":
        raise APIError(422, 42207, "Conditions to reopen the ticket were not met", {"error": [f"Ticket {n} is already open"]})
    if "disapproval_reason" in body and not str(body["disapproval_reason"] or "").strip():
        raise bad_attribute("disapproval_reason", "can't be blank")
    t.update(state="open", status_id=1, stage_id=acc.stages[t["desk_id"]][0]["id"], solved_at=None, updated_at=now,
             reopen_count=t["reopen_count"] + 1, last_reopen_date=iso(now))
    return 200, {"message": f"Ticket {n} reopened successfully"}, {}


def add_answer(acc: Account, answers: list[dict[str, Any]], f: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    # The SPEC's 422 examples for answers use 42201 for both.
    if not f.get("name", "").strip():
        raise bad_param("name", "can't be blank")
    signature = f.get("with_signature")
    if signature is not None and signature not in ("true", "false"):
        raise bad_param("with_signature", f"{signature} is not a valid option. With signature must be 'true' or 'false'")
    me = acc.user(acc.me) or {"name": "?"}
    acc.next_answer_id += 1
    answer = {"id": acc.next_answer_id, "answer_origin": "api", "answer_time": iso(time.time()),
              "author": f"[API] {me['name']}", "files": [], "files_count": 0, "name": f["name"],
              "signature": "Answer sent with signature" if signature == "true" else "Answer sent without signature",
              "user_id": acc.me}
    answers.append({k: v for k, v in answer.items() if k not in ("files", "signature")})
    return 201, answer, {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    double = TiFluxDouble()
    double.server = ThreadingHTTPServer(("127.0.0.1", args.port), type("H", (_Handler,), {"double": double}))
    print(f"serving {double.base_url}", flush=True)
    for name, key in SAMPLE_KEYS.items():
        print(f"  {name}: {key}", flush=True)
    double.server.serve_forever()


if __name__ == "__main__":
    main()
