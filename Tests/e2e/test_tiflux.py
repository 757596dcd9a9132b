"""The TiFlux plugin through a real mcp-host in pass-through mode, against the TiFlux API double
(Tests/tiflux_double/tiflux_double.py, which follows TiFlux's documented API v2).

The host runs with `auth: {mode: pass_through}`: each request carries its TiFlux API key in
`x-tiflux-api-key`; the host names the tenant after a hash of it and hands the key to that tenant's
plugin instance, which sends it to TiFlux as `Authorization: Bearer <key>`. The double serves two
organizations (two keys) with different tickets.
"""

from __future__ import annotations

import email.utils
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from conftest import BUILD_DIR, Host, free_port
from mcpwire import result_of, stateless_call, text_of
from plugin_calls import err, ok, silent_listener, timed_error

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests/tiflux_double"))
from tiflux_double import SAMPLE_KEYS, TiFluxDouble  # noqa: E402

PLUGIN_FILE = "libMCPPluginTiFlux.so"
KEY_A = SAMPLE_KEYS["acme"]
KEY_B = SAMPLE_KEYS["globex"]
BAD_KEY = "tfx-revoked-5d7e1a2b3c4d5e6f7a8b9c0d"
TOOLS = ("get_ticket", "list_tickets", "create_ticket", "update_ticket", "close_ticket", "cancel_ticket", "reopen_ticket",
         "list_ticket_answers", "add_ticket_answer", "get_client", "search_clients", "list_users", "list_desks")

# Every result any test saw, and every host started: the last test searches them for the keys.
SEEN: list[str] = []
HOSTS: list[Host] = []


def plugin_bytes() -> bytes:
    so = BUILD_DIR / PLUGIN_FILE
    if not so.exists():
        pytest.fail(f"missing build product {so} (swift build --product MCPPluginTiFlux)", pytrace=False)
    return so.read_bytes()


def start_host(workroot: Path, tiflux: dict[str, Any], *, auth: str = "pass_through", call_timeout_ms: int = 8000,
               env: dict[str, str] | None = None) -> Host:
    config = {"server": {"call_timeout_ms": call_timeout_ms}, "auth": {"mode": auth},
              "tenants": [{"id": "template", "plugins": {"tiflux": tiflux, "echo": {"greeting": "hi"}},
                           "egress": ["127.0.0.1"]}]}
    h = Host(workroot, plugins=["echo"], config=config, env=env, extra_files={PLUGIN_FILE: plugin_bytes()})
    HOSTS.append(h)
    return h


@pytest.fixture(scope="module")
def double() -> Iterator[TiFluxDouble]:
    d = TiFluxDouble()
    d.start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def host(double: TiFluxDouble, workroot: Path) -> Iterator[Host]:
    h = start_host(workroot, {"base_url": double.base_url})
    yield h
    h.stop()


@pytest.fixture
def tiflux(host: Host, double: TiFluxDouble) -> Iterator["Caller"]:
    double.clear()
    c = Caller(host)
    yield c
    c.client.close()
    double.clear()


class Caller:
    def __init__(self, host: Host):
        self.host = host
        self.client = httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0))
        del self.client.headers["accept"]

    def raw(self, method: str, params: dict[str, Any], key: str | None) -> httpx.Response:
        headers = {"x-tiflux-api-key": key} if key is not None else None
        r, _ = stateless_call(self.client, self.host.mcp_url, method, params, headers=headers)
        SEEN.append(r.text)
        return r

    def call(self, tool: str, args: dict[str, Any] | None = None, key: str = KEY_A) -> dict[str, Any]:
        name = tool if "." in tool else f"tiflux.{tool}"
        return result_of(self.raw("tools/call", {"name": name, "arguments": args or {}}, key))

    def tools(self, key: str = KEY_A) -> dict[str, dict[str, Any]]:
        return {t["name"]: t for t in result_of(self.raw("tools/list", {}, key))["tools"]}

    def close(self) -> None:
        self.client.close()
        self.host.stop()


# ------------------------------------------------------------------------------- the double ----

def test_the_double_answers_as_tiflux_documents(double: TiFluxDouble) -> None:
    """The double's own contract (BACKENDS.md §8), checked without the plugin."""
    auth = {"Authorization": f"Bearer {KEY_A}"}
    r = httpx.get(f"{double.base_url}/tickets")
    assert r.status_code == 401 and r.json()["error_code"] == 40101 and r.json()["message"] == "Problems with Authorization"
    r = httpx.get(f"{double.base_url}/tickets", params={"limit": 5, "offset": 2, "filter_by": "all"}, headers=auth)
    assert r.status_code == 200 and r.headers["x-total-items"] == "25" and isinstance(r.json(), list)
    assert [t["ticket_number"] for t in r.json()] == [20, 19, 18, 17, 16]  # newest first, as the SPEC's examples
    assert r.headers["ratelimit-limit"] == "120" and "ratelimit-remaining" in r.headers and "ratelimit-reset" in r.headers
    r = httpx.get(f"{double.base_url}/tickets", params={"limit": "a"}, headers=auth)
    assert r.status_code == 422 and r.json() == {"error_code": 42201, "message": "Problems with query or path parameters values",
                                                 "detail": {"limit": ["is not a number"]}}
    r = httpx.get(f"{double.base_url}/tickets", params={"stage_ids": "1,1"}, headers=auth)
    assert r.status_code == 422 and r.json()["detail"] == {"stage_ids": ["cannot contain duplicate values"]}
    r = httpx.get(f"{double.base_url}/tickets", params={"start_datetime": "2024-01-02T00:00:00Z",
                                                         "end_datetime": "2024-01-02T00:00:00Z"}, headers=auth)
    assert r.status_code == 422 and "must be greater than :start_datetime" in r.json()["detail"]["end_datetime"][0]
    assert httpx.get(f"{double.base_url}/tickets", params={"is_closed": "yes"}, headers=auth).status_code == 422
    assert httpx.get(f"{double.base_url}/tickets", params={"desk_ids": "1,1"}, headers=auth).status_code == 422
    r = httpx.get(f"{double.base_url}/clients/0", headers=auth)
    assert r.status_code == 404 and r.json()["detail"] == {"error": ["Couldn't find Client with 'id'=\"0\""]}
    assert httpx.post(f"{double.base_url}/tickets", json={"title": "x"}, headers=auth).status_code == 415
    double.clear()


# ------------------------------------------------------------------------------- manifest ----

def test_tools_are_listed_with_truthful_annotations(tiflux: Caller) -> None:
    tools = {n: t for n, t in tiflux.tools().items() if n.startswith("tiflux.")}
    assert set(tools) == {f"tiflux.{n}" for n in TOOLS}
    for t in tools.values():
        assert t["outputSchema"]["type"] == "object", t
        assert t["annotations"]["openWorldHint"] is True, t
    hints = {n.split(".")[1]: (t["annotations"]["readOnlyHint"], t["annotations"]["destructiveHint"],
                               t["annotations"]["idempotentHint"]) for n, t in tools.items()}
    for read in ("get_ticket", "list_tickets", "list_ticket_answers", "get_client", "search_clients", "list_users", "list_desks"):
        assert hints[read] == (True, False, True), read
    assert hints["create_ticket"] == (False, False, False)
    assert hints["add_ticket_answer"] == (False, False, False)
    assert hints["update_ticket"] == (False, True, True)
    assert hints["close_ticket"] == hints["cancel_ticket"] == (False, True, True)
    assert hints["reopen_ticket"] == (False, False, True)


# ---------------------------------------------------------------------------- pass-through ----

def test_missing_key_is_refused_by_the_host_and_tiflux_is_never_called(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.raw("tools/list", {}, key=None)
    assert r.status_code == 401, r.text
    assert "x-tiflux-api-key" in r.json()["error"]
    assert "x-tiflux-api-key" in r.headers.get("www-authenticate", "")
    r = tiflux.raw("tools/call", {"name": "tiflux.get_ticket", "arguments": {"ticket_number": 1}}, key=None)
    assert r.status_code == 401, r.text
    r = tiflux.raw("tools/call", {"name": "tiflux.get_ticket", "arguments": {"ticket_number": 1}}, key="")
    assert r.status_code == 401, r.text
    assert double.requests == []


def test_get_ticket_sends_the_callers_key_and_returns_the_ticket(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("get_ticket", {"ticket_number": 1})
    t = ok(r)["ticket"]
    assert t["ticket_number"] == 1 and t["title"] == "Sem acesso ao e-mail #1"
    assert t["client"]["name"] == "Padaria Pão Quente" and t["desk"]["name"] == "Suporte N1"
    assert t["stage"]["name"] == "Em atendimento" and t["responsible"]["name"] == "Ana Souza" and t["is_closed"] is False
    text = text_of(r)
    assert text.startswith("#1 [open] Sem acesso ao e-mail #1 — client Padaria Pão Quente · desk Suporte N1 · stage Em atendimento")
    assert "description: Sem acesso ao e-mail #1\nReported by the client." in text
    [req] = double.requests_to("GET", "/api/v2/tickets/1")
    assert req["account"] == "acme" and req["raw_query"] == ""
    ok(tiflux.call("get_ticket", {"ticket_number": 1, "show_entities": True}))
    assert double.requests_to("GET", "/api/v2/tickets/1")[-1]["raw_query"] == "show_entities=true&include_filled_entity=true"


def test_two_keys_are_two_tenants_that_see_only_their_own_tickets(tiflux: Caller, double: TiFluxDouble) -> None:
    a = ok(tiflux.call("get_ticket", {"ticket_number": 1}, key=KEY_A))["ticket"]
    b = ok(tiflux.call("get_ticket", {"ticket_number": 1}, key=KEY_B))["ticket"]
    assert a["title"] == "Sem acesso ao e-mail #1" and b["title"] == "Globex: VPN da filial caiu"
    assert ok(tiflux.call("list_tickets", {"state": "all"}, key=KEY_A))["total"] == 25
    listed_b = ok(tiflux.call("list_tickets", {"state": "all"}, key=KEY_B))
    assert listed_b["total"] == 3 and [t["ticket_number"] for t in listed_b["tickets"]] == [3, 2, 1]
    assert "ticket #20 not found" in err(tiflux.call("get_ticket", {"ticket_number": 20}, key=KEY_B))
    assert [r["account"] for r in double.requests] == ["acme", "globex", "acme", "globex", "globex"]
    # Concurrent calls under both keys never cross.
    with ThreadPoolExecutor(max_workers=8) as pool:
        titles = list(pool.map(lambda i: (i, ok(tiflux.call("get_ticket", {"ticket_number": 3},
                                                          key=KEY_A if i % 2 else KEY_B))["ticket"]["title"]), range(16)))
    assert all(title == ("Wi-Fi lento #3" if i % 2 else "Globex: Licença expirada") for i, title in titles), titles
    tenant_a = ok(tiflux.call("echo.whoami", key=KEY_A))["tenant"]
    tenant_b = ok(tiflux.call("echo.whoami", key=KEY_B))["tenant"]
    assert tenant_a.startswith("pt-") and tenant_b.startswith("pt-") and tenant_a != tenant_b
    assert ok(tiflux.call("echo.whoami", key=KEY_A))["tenant"] == tenant_a


# -------------------------------------------------------------------------------- tickets ----

def test_list_tickets_pages_by_page_number_with_the_total(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("list_tickets", {"limit": 10})
    sc = ok(r)
    assert (sc["page"], sc["limit"], sc["count"], sc["total"], sc["has_more"]) == (1, 10, 10, 22, True)
    assert [t["ticket_number"] for t in sc["tickets"]] == [25, 24, 23, 22, 21, 20, 19, 18, 17, 16]
    assert text_of(r).startswith("tickets 1–10 of 22 (page 1)\n#25 [open] ")
    assert text_of(r).endswith("more: page 2")
    sc = ok(tiflux.call("list_tickets", {"limit": 10, "page": 3}))
    assert (sc["count"], sc["total"], sc["has_more"]) == (2, 22, False)
    assert [t["ticket_number"] for t in sc["tickets"]] == [2, 1]
    query = double.requests_to("GET", "/api/v2/tickets")[-1]["query"]
    assert query["offset"] == ["3"] and query["limit"] == ["10"] and query["filter_by"] == ["open"]
    sc = ok(tiflux.call("list_tickets", {"page": 9}))
    assert sc["count"] == 0 and sc["has_more"] is False


def test_list_tickets_filters(tiflux: Caller, double: TiFluxDouble) -> None:
    sc = ok(tiflux.call("list_tickets", {"desk_ids": [1], "client_ids": [10], "responsible_ids": [7]}))
    assert [t["ticket_number"] for t in sc["tickets"]] == [23, 19, 17, 13, 11, 7, 1]
    assert all(t["desk"]["id"] == 1 and t["client"]["id"] == 10 and t["responsible"]["id"] == 7 for t in sc["tickets"])
    query = double.requests_to("GET", "/api/v2/tickets")[-1]["query"]
    assert query["desk_ids"] == ["1"] and query["client_ids"] == ["10"] and query["responsible_ids"] == ["7"]
    assert [t["ticket_number"] for t in ok(tiflux.call("list_tickets", {"stage_ids": [200, 101], "desk_ids": [2]}))["tickets"]] \
        == [24, 22, 20, 18, 16, 14, 12, 10, 8, 4, 2]
    assert [t["ticket_number"] for t in ok(tiflux.call("list_tickets", {"state": "closed"}))["tickets"]] == [6, 3]
    assert [t["ticket_number"] for t in ok(tiflux.call("list_tickets", {"state": "canceled"}))["tickets"]] == [9]
    assert ok(tiflux.call("list_tickets", {"state": "closed", "status_id": 3}))["count"] == 0
    # Created 2024-03-05 .. 2024-03-07 (a date alone as 'end' is the end of that day).
    sc = ok(tiflux.call("list_tickets", {"state": "all", "start": "2024-03-05", "end": "2024-03-07"}))
    assert [t["ticket_number"] for t in sc["tickets"]] == [7, 6, 5]
    query = double.requests_to("GET", "/api/v2/tickets")[-1]["query"]
    assert query["start_datetime"] == ["2024-03-05T00:00:00Z"] and query["end_datetime"] == ["2024-03-07T23:59:59Z"]
    assert query["date_type"] == ["created_at"] and query["filter_by"] == ["all"] and "is_closed" not in query
    # An offset in the argument is converted to UTC.
    ok(tiflux.call("list_tickets", {"start": "2024-03-05T09:00:00-03:00"}))
    assert double.requests_to("GET", "/api/v2/tickets")[-1]["query"]["start_datetime"] == ["2024-03-05T12:00:00Z"]
    # Solution date: closed #3 and #6 were solved two hours after creation.
    sc = ok(tiflux.call("list_tickets", {"state": "all", "date_type": "solved_in_time", "start": "2024-03-06T00:00:00Z"}))
    assert [t["ticket_number"] for t in sc["tickets"]] == [9, 6]


def test_create_ticket_sends_a_form_and_returns_the_new_ticket(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("create_ticket", {
        "title": "Servidor sem espaço", "description": "<p>Disco <b>cheio</b></p>", "client_id": 11, "desk_id": 2,
        "priority_id": 2, "responsible_id": 7, "requestor_name": "Rita", "requestor_email": "rita@oficina.example",
        "followers": ["a@oficina.example", "b@oficina.example"], "parent_ticket_number": 2})
    t = ok(r)["ticket"]
    number = t["ticket_number"]
    assert number >= 26 and t["title"] == "Servidor sem espaço" and t["desk"]["name"] == "Infra"
    assert t["priority"]["name"] == "Alta" and t["responsible"]["name"] == "Ana Souza" and t["stage"]["name"] == "Triagem"
    assert text_of(r).startswith(f"created #{number} [open] Servidor sem espaço")
    [post] = double.requests_to("POST", "/api/v2/tickets")
    assert post["content_type"].startswith("multipart/form-data; boundary=")
    body = post["body"].decode()
    for name, value in (("title", "Servidor sem espaço"), ("client_id", "11"), ("desk_id", "2"), ("priority_id", "2"),
                        ("responsible_id", "7"), ("requestor_email", "rita@oficina.example"),
                        ("followers", "a@oficina.example,b@oficina.example"), ("ticket_reference_number", "2")):
        assert f'name="{name}"\r\n\r\n{value}\r\n' in body, (name, body)
    assert ok(tiflux.call("get_ticket", {"ticket_number": number}))["ticket"]["description"] == "<p>Disco <b>cheio</b></p>"
    assert "HTTP 404" in err(tiflux.call("get_ticket", {"ticket_number": number}, key=KEY_B))


def test_update_ticket_sends_only_the_given_fields(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("update_ticket", {"ticket_number": 2, "title": "Wi-Fi lento no 2º andar", "stage_id": 201,
                                      "responsible_id": None, "followers": []})
    t = ok(r)["ticket"]
    assert t["title"] == "Wi-Fi lento no 2º andar" and t["stage"]["name"] == "Execução" and t["responsible"] is None
    assert t["followers"] == "" and t["priority"]["name"] == "Baixa"
    assert text_of(r).startswith("updated #2 [open] Wi-Fi lento no 2º andar")
    [put] = double.requests_to("PUT", "/api/v2/tickets/2")
    assert put["content_type"] == "application/json"
    assert json.loads(put["body"]) == {"title": "Wi-Fi lento no 2º andar", "stage_id": 201, "responsible_id": None,
                                       "followers": ""}
    t = ok(tiflux.call("update_ticket", {"ticket_number": 2, "priority_id": 2, "priority_change_reason": "VIP"}))["ticket"]
    assert t["priority"]["name"] == "Alta" and t["priority_change_reason"] == "VIP"
    assert ok(tiflux.call("update_ticket", {"ticket_number": 2, "parent_ticket_number": 1}))["ticket"]["ticket_reference"] \
        == {"ticket_number": 1}
    assert ok(tiflux.call("update_ticket", {"ticket_number": 2, "parent_ticket_number": None}))["ticket"]["ticket_reference"] == {}
    assert json.loads(double.requests_to("PUT", "/api/v2/tickets/2")[-1]["body"]) == {"ticket_reference_number": None}


def test_close_cancel_and_reopen(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("close_ticket", {"ticket_number": 4})
    assert ok(r) == {"ticket_number": 4, "state": "closed", "message": "Ticket 4 closed successfully"}
    assert text_of(r) == "ticket #4 closed: Ticket 4 closed successfully"
    assert ok(tiflux.call("get_ticket", {"ticket_number": 4}))["ticket"]["is_closed"] is True
    msg = err(tiflux.call("close_ticket", {"ticket_number": 4}))
    assert "HTTP 422" in msg and "error 42206" in msg and "Ticket 4 is already closed" in msg, msg
    assert ok(tiflux.call("reopen_ticket", {"ticket_number": 4}))["message"] == "Ticket 4 reopened successfully"
    msg = err(tiflux.call("reopen_ticket", {"ticket_number": 4}))
    assert "error 42207" in msg and "Ticket 4 is already open" in msg, msg
    assert ok(tiflux.call("cancel_ticket", {"ticket_number": 4}))["message"] == "Ticket 4 cancelled successfully"
    assert [t["ticket_number"] for t in ok(tiflux.call("list_tickets", {"state": "canceled"}))["tickets"]] == [9, 4]
    sc = ok(tiflux.call("reopen_ticket", {"ticket_number": 4, "disapproval_reason": "Ainda sem solução"}))
    assert sc["state"] == "open"
    puts = double.requests_to("PUT", "/api/v2/tickets/4/reopen")
    assert puts[0]["body"] == b"" and puts[0]["content_type"] is None
    assert puts[-1]["content_type"] == "application/json"
    assert json.loads(puts[-1]["body"]) == {"disapproval_reason": "Ainda sem solução"}
    assert ok(tiflux.call("get_ticket", {"ticket_number": 4}))["ticket"]["reopen_count"] == 2


# ------------------------------------------------------------------------------- answers ----

def test_list_and_add_ticket_answers(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("list_ticket_answers", {"ticket_number": 1})
    sc = ok(r)
    assert (sc["ticket_number"], sc["count"], sc["total"], sc["has_more"]) == (1, 3, 3, False)
    assert [a["id"] for a in sc["answers"]] == [501, 502, 503]
    assert "answer 501 by Ana Souza at 2024-03-01T11:00:00Z: Resposta 1: verificando & ajustando" in text_of(r)
    r = tiflux.call("add_ticket_answer", {"ticket_number": 1, "text": "Olá <cliente> & cia\nsegunda linha",
                                          "with_signature": True})
    answer = ok(r)["answer"]
    assert answer["author"] == "[API] Bruno Lima" and answer["answer_origin"] == "api"
    assert answer["signature"] == "Answer sent with signature"
    assert answer["name"] == "<p>Olá &lt;cliente&gt; &amp; cia</p><p>segunda linha</p>"
    assert text_of(r).startswith(f"ticket #1: added answer {answer['id']} by [API] Bruno Lima")
    body = double.requests_to("POST", "/api/v2/tickets/1/answers")[0]["body"].decode()
    assert 'name="with_signature"\r\n\r\ntrue\r\n' in body
    ok(tiflux.call("add_ticket_answer", {"ticket_number": 1, "text": "<p>já <i>resolvido</i></p>", "format": "html"}))
    sc = ok(tiflux.call("list_ticket_answers", {"ticket_number": 1, "limit": 2, "page": 2}))
    assert (sc["count"], sc["total"], sc["has_more"]) == (2, 5, True)
    assert [a["id"] for a in sc["answers"]] == [503, answer["id"]]
    assert double.requests_to("GET", "/api/v2/tickets/1/answers")[-1]["raw_query"] == "offset=2&limit=2"
    sc = ok(tiflux.call("list_ticket_answers", {"ticket_number": 1, "limit": 2, "page": 3}))
    assert (sc["count"], sc["total"], sc["has_more"]) == (1, 5, False)
    assert sc["answers"][0]["name"] == "<p>já <i>resolvido</i></p>"


# ------------------------------------------------------------------- clients, users, desks ----

def test_clients(tiflux: Caller, double: TiFluxDouble) -> None:
    r = tiflux.call("get_client", {"client_id": 10})
    c = ok(r)["client"]
    assert c["name"] == "Padaria Pão Quente" and [d["name"] for d in c["desks"]] == ["Suporte N1", "Infra"]
    assert text_of(r) == ("client 10: Padaria Pão Quente (Padaria) · active\nlegal name: Padaria LTDA\n"
                          "financial e-mail: financeiro@padaria.example\ndesks: Suporte N1 (1), Infra (2)\ntechnical groups: N1")
    msg = err(tiflux.call("get_client", {"client_id": 999}))
    assert "client 999 not found" in msg and "Couldn't find Client with 'id'=\"999\"" in msg, msg
    sc = ok(tiflux.call("search_clients", {"name": "padaria"}))
    assert [c["id"] for c in sc["clients"]] == [10] and sc["total"] == 1
    assert double.requests_to("GET", "/api/v2/clients")[-1]["query"] == {
        "active": ["true"], "name": ["padaria"], "offset": ["1"], "limit": ["20"]}
    assert [c["name"] for c in ok(tiflux.call("search_clients", {"active": False}))["clients"]] == ["Antiga Comércio"]
    assert ok(tiflux.call("search_clients", {}, key=KEY_B))["clients"][0]["name"] == "Globex Matriz"


def test_users_and_desks(tiflux: Caller, double: TiFluxDouble) -> None:
    sc = ok(tiflux.call("list_users"))
    assert sc["total"] == 4 and [u["name"] for u in sc["users"]][:2] == ["Ana Souza", "Bruno Lima"]
    sc = ok(tiflux.call("list_users", {"type": "attendant", "active": True}))
    assert [u["name"] for u in sc["users"]] == ["Ana Souza"]
    assert double.requests_to("GET", "/api/v2/users")[-1]["query"]["type"] == ["attendant"]
    r = tiflux.call("list_users", {"name": "SOUZA"})
    sc = ok(r)
    assert [u["id"] for u in sc["users"]] == [7] and sc["complete"] is True and sc["scanned"] == 4
    assert "users matching 'SOUZA': users 1–1 of 1 (page 1)\nuser 7: Ana Souza <ana@acme.example> · attendant" in text_of(r)
    assert [u["id"] for u in ok(tiflux.call("list_users", {"name": "padaria.example"}))["users"]] == [15]
    sc = ok(tiflux.call("list_desks"))
    assert [d["name"] for d in sc["desks"]] == ["Suporte N1", "Infra"]
    assert [d["id"] for d in ok(tiflux.call("list_desks", {"name": "infra"}))["desks"]] == [2]
    assert [d["name"] for d in ok(tiflux.call("list_desks", {"active": False}))["desks"]] == ["Legado"]
    assert [d["name"] for d in ok(tiflux.call("list_desks", {}, key=KEY_B))["desks"]] == ["Atendimento"]
    # /users is for admin keys: an attendant's key gets TiFlux's 403.
    acme = double.accounts["acme"]
    acme.me = 7
    try:
        msg = err(tiflux.call("list_users"))
    finally:
        acme.me = 8
    assert msg == ("TiFlux denied access: the key's permission group or licence does not allow this (HTTP 403: "
                   "Access Denied - You cannot access this route (error 40301): You are not authorized to access this page.)"), msg


# ----------------------------------------------------------------------- retries, errors ----

def test_429_is_retried_after_retry_after(tiflux: Caller, double: TiFluxDouble) -> None:
    double.fail_next(429, times=2, retry_after=1, path_prefix="/api/v2/tickets/5")
    t0 = time.monotonic()
    assert ok(tiflux.call("get_ticket", {"ticket_number": 5}))["ticket"]["ticket_number"] == 5
    elapsed = time.monotonic() - t0
    attempts = double.requests_to("GET", "/api/v2/tickets/5")
    assert len(attempts) == 3
    gaps = [b["at"] - a["at"] for a, b in zip(attempts, attempts[1:])]
    assert all(g >= 0.95 for g in gaps), gaps  # Retry-After: 1 s honoured each time
    assert elapsed >= 1.9, elapsed
    assert "answered HTTP 429; retry 1 of 3 in 1 s" in tiflux.host.logs()
    # Retry-After as an HTTP date (RFC 9110), 2 s ahead at one-second resolution: a wait of 1–2 s.
    double.fail_next(429, times=1, retry_after=email.utils.formatdate(time.time() + 2, usegmt=True),
                     path_prefix="/api/v2/tickets/5")
    ok(tiflux.call("get_ticket", {"ticket_number": 5}))
    first, second = double.requests_to("GET", "/api/v2/tickets/5")[-2:]
    assert 0.9 <= second["at"] - first["at"] <= 2.6, second["at"] - first["at"]


def test_429_is_retried_for_writes_too(tiflux: Caller, double: TiFluxDouble) -> None:
    # A 429 means TiFlux did nothing: resending a POST cannot duplicate the answer.
    double.fail_next(429, times=1, retry_after=1, method="POST")
    ok(tiflux.call("add_ticket_answer", {"ticket_number": 8, "text": "retry me"}))
    assert len(double.requests_to("POST", "/api/v2/tickets/8/answers")) == 2
    assert ok(tiflux.call("list_ticket_answers", {"ticket_number": 8}))["total"] == 1


def test_429_asking_to_wait_past_the_deadline_fails_at_once(tiflux: Caller, double: TiFluxDouble) -> None:
    double.fail_next(429, times=1, retry_after=60)
    t0 = time.monotonic()
    msg = err(tiflux.call("get_ticket", {"ticket_number": 5}))
    assert time.monotonic() - t0 < 2.0
    assert "TiFlux rate limit exceeded (HTTP 429)" in msg and "Too Many Requests (error 42901)" in msg, msg
    assert "the next retry, due in 60 s, would pass this call's deadline" in msg, msg
    assert len(double.requests_to("GET", "/api/v2/tickets/5")) == 1
    # No Retry-After: TiFlux's documented RateLimit-Reset (the double's window ends in 60 s) decides.
    double.fail_next(429, times=1)
    msg = err(tiflux.call("get_ticket", {"ticket_number": 5}))
    assert re.search(r"the next retry, due in 5\d(\.\d+)? s, would pass this call's deadline", msg), msg


def test_5xx_is_retried_for_reads(tiflux: Caller, double: TiFluxDouble) -> None:
    double.fail_next(503, times=2, path_prefix="/api/v2/tickets/7")
    assert ok(tiflux.call("get_ticket", {"ticket_number": 7}))["ticket"]["ticket_number"] == 7
    assert len(double.requests_to("GET", "/api/v2/tickets/7")) == 3
    double.fail_next(500, times=10, path_prefix="/api/v2/clients")
    t0 = time.monotonic()
    msg = err(tiflux.call("search_clients", {"name": "x"}))
    assert time.monotonic() - t0 < 7.5  # within the call's 8 s deadline
    assert msg == ("TiFlux server error (HTTP 500) after 4 attempts: Internal Server Error (error 50001): "
                   "injected failure 500"), msg
    assert len(double.requests_to("GET", "/api/v2/clients")) == 4


def test_5xx_is_not_retried_for_writes_that_are_not_idempotent(tiflux: Caller, double: TiFluxDouble) -> None:
    double.fail_next(500, times=1, method="POST")
    msg = err(tiflux.call("create_ticket", {"title": "x", "description": "y", "client_id": 10, "desk_id": 1}))
    assert "TiFlux server error (HTTP 500): Internal Server Error" in msg, msg
    assert len(double.requests_to("POST", "/api/v2/tickets")) == 1
    double.fail_next(503, times=1, method="PUT")
    assert "HTTP 503" in err(tiflux.call("close_ticket", {"ticket_number": 10}))
    assert len(double.requests_to("PUT", "/api/v2/tickets/10/close")) == 1
    assert ok(tiflux.call("get_ticket", {"ticket_number": 10}))["ticket"]["is_closed"] is False


def test_unknown_key_gets_tiflux_401_message(tiflux: Caller, double: TiFluxDouble) -> None:
    msg = err(tiflux.call("get_ticket", {"ticket_number": 1}, key=BAD_KEY))
    assert msg == ("TiFlux API key invalid or expired (HTTP 401: Problems with Authorization (error 40101): "
                   "You need to sign in before continuing.)"), msg
    assert double.requests[-1]["auth"] == "unknown"
    assert len(double.requests) == 1  # 401 is not retried


def test_not_found_names_the_id(tiflux: Caller) -> None:
    msg = err(tiflux.call("get_ticket", {"ticket_number": 424242}))
    assert msg.startswith("TiFlux: ticket #424242 not found (HTTP 404: Cannot find record (error 40401): "
                          "Couldn't find ServiceDesk::Ticket with ticket_number = 424242)"), msg
    assert "ticket #424242 not found" in err(tiflux.call("list_ticket_answers", {"ticket_number": 424242}))
    assert "ticket #424242 not found" in err(tiflux.call("close_ticket", {"ticket_number": 424242}))


def test_validation_errors_carry_tiflux_message(tiflux: Caller) -> None:
    msg = err(tiflux.call("create_ticket", {"title": "x", "description": "y", "client_id": 10, "desk_id": 3, "priority_id": 1}))
    assert msg == ("TiFlux rejected the request (HTTP 422): Problems with body attributes values (error 42202): "
                   "desk_id: is invalid"), msg
    msg = err(tiflux.call("update_ticket", {"ticket_number": 3, "title": "closed already"}))
    assert "(error 42202): ticket: Only open tickets can be updated" in msg, msg
    msg = err(tiflux.call("update_ticket", {"ticket_number": 5, "stage_id": 201}))
    assert "stage_id: does not belong to the desk" in msg, msg
    msg = err(tiflux.call("create_ticket", {"title": "x", "description": "y", "client_id": 10, "desk_id": 1}))
    assert msg.endswith("(error 42202): priority_id: can't be blank"), msg


def test_bad_arguments_name_the_field_and_never_reach_tiflux(tiflux: Caller, double: TiFluxDouble) -> None:
    cases = [
        ("get_ticket", {}, "ticket_number"),
        ("get_ticket", {"ticket_number": "12"}, "ticket_number"),
        ("get_ticket", {"ticket_number": 0}, "ticket_number"),
        ("list_tickets", {"limit": 500}, "limit"),
        ("list_tickets", {"state": "pending"}, "state"),
        ("list_tickets", {"desk_ids": list(range(1, 17))}, "desk_ids"),
        ("list_tickets", {"start": "yesterday"}, "'start'"),
        ("list_tickets", {"start": "2024-03-10", "end": "2024-03-01"}, "'end'"),
        ("list_tickets", {"start": "2024-03-10T00:00:00Z", "end": "2024-03-10T00:00:00Z"}, "must be after 'start'"),
        ("create_ticket", {"title": "x", "description": "y", "client_id": 10}, "desk_id"),
        ("create_ticket", {"title": "x", "description": "y", "client_id": 10, "desk_id": 1, "followers": ["nope"]},
         "followers[0]"),
        ("create_ticket", {"title": "x", "description": "y", "client_id": 10, "desk_id": 1, "requestor_id": 3,
                           "requestor_name": "R"}, "requestor_id"),
        ("update_ticket", {"ticket_number": 2}, "at least one field"),
        ("update_ticket", {"ticket_number": 2, "priority_change_reason": "why"}, "priority_change_reason"),
        ("add_ticket_answer", {"ticket_number": 1, "text": "   "}, "'text'"),
        ("add_ticket_answer", {"ticket_number": 1, "text": "x", "format": "markdown"}, "format"),
        ("get_client", {"client_id": -1}, "client_id"),
        ("list_users", {"type": "robot"}, "type"),
    ]
    for tool, args, field in cases:
        msg = err(tiflux.call(tool, args))
        assert field in msg, (tool, args, msg)
    assert double.requests == []


def test_key_from_the_environment_or_a_file_without_pass_through(double: TiFluxDouble, workroot: Path) -> None:
    h = start_host(workroot, {"base_url": double.base_url, "api_key_env": "TIFLUX_TEST_KEY"}, auth="none",
                   env={"TIFLUX_TEST_KEY": KEY_B})
    c = Caller(h)
    try:
        assert ok(c.call("get_ticket", {"ticket_number": 2}))["ticket"]["title"] == "Globex: Troca de notebook"
    finally:
        c.close()
    key_file = workroot / "tiflux-key.txt"
    key_file.write_text(KEY_A + "\n")
    h = start_host(workroot, {"base_url": double.base_url, "api_key_file": str(key_file)}, auth="none")
    c = Caller(h)
    try:
        assert ok(c.call("get_ticket", {"ticket_number": 1}))["ticket"]["title"] == "Sem acesso ao e-mail #1"
    finally:
        c.close()
    # Refused configurations: the tools are not served, and the log says why (never with a key).
    for settings, reason in (({"api_key_env": "TIFLUX_UNSET_VAR"}, "api_key_env: environment variable TIFLUX_UNSET_VAR is not set"),
                             ({"api_key_file": str(workroot / "no-such-file")}, "api_key_file: cannot read"),
                             ({"api_key_env": "TIFLUX_TEST_KEY", "api_key_file": str(key_file)}, "configure one source"),
                             # No key source at all: the schema says so, and the host does not enable it.
                             ({}, "missing required property 'api_key'")):
        h = start_host(workroot, {"base_url": double.base_url, **settings}, auth="none", env={"TIFLUX_TEST_KEY": KEY_B})
        c = Caller(h)
        try:
            assert not any(n.startswith("tiflux.") for n in c.tools()), settings
            assert reason in h.logs(), (settings, h.logs()[-2000:])
        finally:
            c.close()


def test_unreachable_tiflux_fails_within_the_deadline(workroot: Path) -> None:
    # Nobody listens: connection refused, retried (a read) with backoff until the deadline is near.
    msg, elapsed = timed_error(
        Caller(start_host(workroot, {"base_url": f"http://127.0.0.1:{free_port()}/api/v2"}, call_timeout_ms=3000)),
        "get_ticket", {"ticket_number": 1})
    # The plugin's own message (not the host's deadline error) proves it answered in time.
    assert "TiFlux is unreachable (127.0.0.1:" in msg, msg
    assert elapsed < 3.5
    # Accepts connections, never answers: the request times out inside the call's deadline.
    with silent_listener() as silent:
        msg, elapsed = timed_error(
            Caller(start_host(workroot, {"base_url": f"http://127.0.0.1:{silent.getsockname()[1]}/api/v2"},
                              call_timeout_ms=2000)),
            "create_ticket", {"title": "x", "description": "y", "client_id": 10, "desk_id": 1})
    assert msg.startswith("TiFlux is unreachable (127.0.0.1:") and "timeout" in msg, msg
    assert elapsed < 2.5


def test_keys_never_appear_in_results_or_host_logs(tiflux: Caller) -> None:
    # Produce errors on both keys once more (401 path, 404 path, 422 path), then search everything.
    err(tiflux.call("get_ticket", {"ticket_number": 1}, key=BAD_KEY))
    err(tiflux.call("get_ticket", {"ticket_number": 999}, key=KEY_B))
    err(tiflux.call("create_ticket", {"title": "x", "description": "y", "client_id": 1, "desk_id": 1}, key=KEY_A))
    assert len(SEEN) >= 3 and HOSTS  # in a full run: every response of every test above
    logs = "".join(h.logs() for h in HOSTS)
    assert "tiflux" in logs.lower()
    for key in (KEY_A, KEY_B, BAD_KEY):
        assert key not in logs, f"a key appears in the host logs"
        assert not any(key in text for text in SEEN), "a key appears in a result"
