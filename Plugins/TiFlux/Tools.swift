import MCPPluginSDK

/// The manifest: input and output schemas and annotations of every TiFlux tool.
///
/// Annotations: every tool reaches TiFlux (openWorldHint). Reads are read-only and idempotent.
/// Writes are split by what a second identical call does and whether earlier data is lost:
/// `create_ticket` / `add_ticket_answer` add (not destructive, not idempotent: each call adds one
/// more, and an answer is e-mailed to the client); `update_ticket` overwrites fields and replaces
/// the follower list (destructive, idempotent); `close_ticket` / `cancel_ticket` end the ticket's
/// work — reopening is refused for billed tickets (422 42207) — so they are destructive;
/// a repeat only gets TiFlux's "already closed" 422 (idempotent). `reopen_ticket` restores work
/// (not destructive; a repeat gets "already open").
enum Tools {
    static let read = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true)
    static let add = ToolAnnotations(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)
    static let overwrite = ToolAnnotations(readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true)
    static let restore = ToolAnnotations(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true)

    static let maxPageSize = 200

    private static let ticketNumber = #""ticket_number":{"type":"integer","minimum":1,"description":"Ticket number (TiFlux's per-organization sequence, as shown in the portal)"}"#
    private static let id = #"{"type":"integer","minimum":1}"#
    private static let ids =
        #"{"type":"array","items":{"type":"integer","minimum":1},"minItems":1,"maxItems":15,"uniqueItems":true}"#
    private static let paging = """
        "page":{"type":"integer","minimum":1,"default":1,"description":"Page number, 1-based (TiFlux's 'offset')"},
        "limit":{"type":"integer","minimum":1,"maximum":200,"default":20,"description":"Items per page (at most 200)"}
        """
    private static let ticketObject =
        #"{"type":"object","properties":{"ticket_number":{"type":"integer"},"title":{"type":"string"},"is_closed":{"type":"boolean"}},"required":["ticket_number","title"]}"#
    private static let anyObject = #"{"type":"object"}"#

    /// `{"<items>":[…],"page":…,"limit":…,"count":…,"total":…,"has_more":…}`
    private static func pageSchema(_ items: String, _ item: String, extra: String = "", required: String = "") -> JSONSchemaLiteral {
        JSONSchemaLiteral("""
            {"type":"object","properties":{
               "\(items)":{"type":"array","items":\(item)},
               "page":{"type":"integer"},"limit":{"type":"integer"},"count":{"type":"integer"},
               "total":{"type":["integer","null"],"description":"Items matching the filters over all pages (X-Total-Items)"},
               "has_more":{"type":"boolean"}\(extra)},
             "required":["\(items)","page","limit","count","total","has_more"\(required)]}
            """)
    }

    private static let transitionOutput: JSONSchemaLiteral = """
        {"type":"object","properties":{
           "ticket_number":{"type":"integer"},"state":{"type":"string","enum":["closed","canceled","open"]},
           "message":{"type":"string"}},
         "required":["ticket_number","state","message"]}
        """

    static let all: [ToolSpec] = [
        ToolSpec(
            name: "get_ticket", title: "Get ticket",
            description: "One ticket by number: title, description, client, desk, stage, status, priority, responsible, requestor, SLA and dates.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{\(ticketNumber),
                   "show_entities":{"type":"boolean","default":false,"description":"Also return the ticket's custom fields (entities)"}},
                 "required":["ticket_number"],"additionalProperties":false}
                """),
            outputSchema: JSONSchemaLiteral(#"{"type":"object","properties":{"ticket":\#(ticketObject)},"required":["ticket"]}"#),
            annotations: read),
        ToolSpec(
            name: "list_tickets", title: "List tickets",
            description: """
                Tickets matching filters, one page at a time, newest first. State defaults to open tickets. \
                Date range: 'start'/'end' (ISO 8601 date or datetime) apply to the creation date, or to the solution \
                date with date_type=solved_in_time.
                """,
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "state":{"type":"string","enum":["open","closed","canceled","all"],"default":"open"},
                   "desk_ids":\(ids),"client_ids":\(ids),"stage_ids":\(ids),"responsible_ids":\(ids),
                   "status_id":{"type":"integer","minimum":1,"description":"Ticket status id (see get_ticket's status.id)"},
                   "requestor_email":{"type":"string","minLength":3},
                   "date_type":{"type":"string","enum":["created_at","solved_in_time"],"default":"created_at"},
                   "start":{"type":"string","description":"From this date/time (ISO 8601, e.g. 2024-05-01 or 2024-05-01T08:00:00-03:00)"},
                   "end":{"type":"string","description":"Until this date/time (ISO 8601; a date alone means the end of that day, UTC)"},
                   \(paging)},
                 "additionalProperties":false}
                """),
            outputSchema: pageSchema("tickets", ticketObject), annotations: read),
        ToolSpec(
            name: "create_ticket", title: "Create ticket",
            description: "Opens a ticket for a client on a desk. Returns the created ticket with its number.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "title":{"type":"string","minLength":1,"maxLength":255},
                   "description":{"type":"string","minLength":1,"description":"Ticket description (HTML allowed)"},
                   "client_id":\(id),"desk_id":\(id),
                   "priority_id":\(id),"services_catalogs_item_id":\(id),"status_id":\(id),"stage_id":\(id),"responsible_id":\(id),
                   "requestor_id":{"type":"integer","minimum":1,"description":"An existing requestor; or give requestor_name/email/telephone"},
                   "requestor_name":{"type":"string","minLength":1},"requestor_email":{"type":"string","minLength":3},
                   "requestor_telephone":{"type":"string","minLength":1},
                   "followers":{"type":"array","items":{"type":"string","minLength":3},"maxItems":50,"description":"E-mail addresses to follow the ticket"},
                   "parent_ticket_number":{"type":"integer","minimum":1,"description":"Makes the new ticket a child of this one"}},
                 "required":["title","description","client_id","desk_id"],"additionalProperties":false}
                """),
            outputSchema: JSONSchemaLiteral(#"{"type":"object","properties":{"ticket":\#(ticketObject)},"required":["ticket"]}"#),
            annotations: add),
        ToolSpec(
            name: "update_ticket", title: "Update ticket",
            description: """
                Changes fields of an open ticket; only the fields given change. responsible_id null unassigns, \
                parent_ticket_number null detaches from the parent; followers replaces the whole list ([] clears it); \
                a priority change may need priority_change_reason.
                """,
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{\(ticketNumber),
                   "title":{"type":"string","minLength":1,"maxLength":255},"description":{"type":"string","minLength":1},
                   "stage_id":\(id),"status_id":\(id),"priority_id":\(id),"priority_change_reason":{"type":"string","minLength":1},
                   "services_catalogs_item_id":\(id),"desk_id":\(id),"requestor_id":\(id),
                   "responsible_id":{"type":["integer","null"],"minimum":1},
                   "parent_ticket_number":{"type":["integer","null"],"minimum":1,"description":"Parent ticket; null removes the parent"},
                   "followers":{"type":"array","items":{"type":"string","minLength":3},"maxItems":50}},
                 "required":["ticket_number"],"additionalProperties":false}
                """),
            outputSchema: JSONSchemaLiteral(#"{"type":"object","properties":{"ticket":\#(ticketObject)},"required":["ticket"]}"#),
            annotations: overwrite),
        ToolSpec(
            name: "close_ticket", title: "Close ticket",
            description: "Closes (finishes) a ticket. TiFlux refuses when the desk's closing conditions are not met.",
            inputSchema: JSONSchemaLiteral(#"{"type":"object","properties":{\#(ticketNumber)},"required":["ticket_number"],"additionalProperties":false}"#),
            outputSchema: transitionOutput, annotations: overwrite),
        ToolSpec(
            name: "cancel_ticket", title: "Cancel ticket",
            description: "Cancels a ticket (it is closed as canceled). TiFlux refuses when the cancelling conditions are not met.",
            inputSchema: JSONSchemaLiteral(#"{"type":"object","properties":{\#(ticketNumber)},"required":["ticket_number"],"additionalProperties":false}"#),
            outputSchema: transitionOutput, annotations: overwrite),
        ToolSpec(
            name: "reopen_ticket", title: "Reopen ticket",
            description: "Reopens a closed or canceled ticket. Tickets waiting for the client's review need a disapproval_reason.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{\(ticketNumber),"disapproval_reason":{"type":"string","minLength":1}},
                 "required":["ticket_number"],"additionalProperties":false}
                """),
            outputSchema: transitionOutput, annotations: restore),
        ToolSpec(
            name: "list_ticket_answers", title: "List ticket answers",
            description: "The answers (communications with the client) of a ticket, one page at a time.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{\(ticketNumber),\(paging)},"required":["ticket_number"],"additionalProperties":false}
                """),
            outputSchema: pageSchema(
                "answers", #"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id"]}"#,
                extra: #","ticket_number":{"type":"integer"}"#, required: #","ticket_number""#),
            annotations: read),
        ToolSpec(
            name: "add_ticket_answer", title: "Answer ticket",
            description: "Adds an answer to a ticket: a message to the client (TiFlux notifies the requestor and followers).",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{\(ticketNumber),
                   "text":{"type":"string","minLength":1,"maxLength":100000},
                   "format":{"type":"string","enum":["text","html"],"default":"text","description":"'text' is escaped and kept line by line; 'html' is sent as is"},
                   "with_signature":{"type":"boolean","description":"Append the user's signature"}},
                 "required":["ticket_number","text"],"additionalProperties":false}
                """),
            outputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{"ticket_number":{"type":"integer"},
                   "answer":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}},
                 "required":["ticket_number","answer"]}
                """),
            annotations: add),
        ToolSpec(
            name: "get_client", title: "Get client",
            description: "One client (customer organization) by id, with its desks and technical groups.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{"client_id":\(id),
                   "show_entities":{"type":"boolean","default":false,"description":"Also return custom fields"}},
                 "required":["client_id"],"additionalProperties":false}
                """),
            outputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{"client":{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id","name"]}},
                 "required":["client"]}
                """),
            annotations: read),
        ToolSpec(
            name: "search_clients", title: "Search clients",
            description: "Clients whose name contains the text (all clients without a name), active ones by default.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{"name":{"type":"string","minLength":1},
                   "active":{"type":"boolean","default":true},\(paging)},
                 "additionalProperties":false}
                """),
            outputSchema: pageSchema("clients", anyObject), annotations: read),
        ToolSpec(
            name: "list_users", title: "List users",
            description: """
                Users of the organization (attendants, admins, client users); needs an admin key. TiFlux has no name \
                filter: with 'name', up to 2,000 users are scanned here and the matches (name or e-mail) paged.
                """,
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "name":{"type":"string","minLength":1,"description":"Part of the name or e-mail (case-insensitive)"},
                   "type":{"type":"string","enum":["client","attendant","admin"]},
                   "active":{"type":"boolean"},\(paging)},
                 "additionalProperties":false}
                """),
            outputSchema: pageSchema(
                "users", anyObject,
                extra: #","scanned":{"type":"integer","description":"With 'name': users examined"},"complete":{"type":"boolean","description":"With 'name': whether every user was examined"}"#),
            annotations: read),
        ToolSpec(
            name: "list_desks", title: "List desks",
            description: "Service desks, active ones by default, optionally those whose name contains a text.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{"name":{"type":"string","minLength":1},
                   "active":{"type":"boolean","default":true},\(paging)},
                 "additionalProperties":false}
                """),
            outputSchema: pageSchema("desks", anyObject), annotations: read),
    ]
}
