import MCPPluginSDK

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// TiFlux service-desk tools (tickets, answers, clients, users, desks) over TiFlux REST API v2.
///
/// The API key is the caller's own: with `auth: {mode: pass_through}` the host takes it from the
/// request header `x-tiflux-api-key`, names the tenant after its hash and puts it into this
/// plugin's configuration as `api_key` for that tenant's instance only. Outside pass-through mode
/// (stdio, a single team) the key comes from `api_key_env` / `api_key_file`, never from the file.
struct TiFluxPlugin: MCPPlugin {
    struct Configuration: Decodable, Sendable {
        var api_key: String?
        var api_key_env: String?
        var api_key_file: String?
        var base_url: String?
        var timeout_ms: Int?
        var max_retries: Int?
    }

    static let name = "tiflux"
    static let version = "1.0.0"
    static let credentialHeaders = [CredentialHeader(header: "x-tiflux-api-key", configKey: "api_key")]
    static let configurationSchema: JSONSchemaLiteral = """
        {"type":"object","additionalProperties":false,
         "properties":{
           "api_key":{"type":"string","minLength":1,"description":"Set by the host from the x-tiflux-api-key header (auth mode pass_through); do not write it in a file"},
           "api_key_env":{"type":"string","minLength":1,"description":"Environment variable holding the API key (without pass-through)"},
           "api_key_file":{"type":"string","minLength":1,"description":"File holding the API key (without pass-through)"},
           "base_url":{"type":"string","description":"TiFlux API v2 base URL (default https://api.tiflux.com/api/v2)"},
           "timeout_ms":{"type":"integer","minimum":100,"maximum":120000,"description":"Per-request timeout (default 15000)"},
           "max_retries":{"type":"integer","minimum":0,"maximum":10,"description":"Retries after 429/5xx/transport failures (default 3)"}},
         "anyOf":[{"required":["api_key"]},{"required":["api_key_env"]},{"required":["api_key_file"]}]}
        """
    static let tools = Tools.all

    let client: TiFluxClient

    init(configuration c: Configuration, host: PluginHost) throws {
        let base = try ConfigurationValues.baseURL(
            c.base_url ?? "https://api.tiflux.com/api/v2", key: "base_url", credentialsHint: "the API key goes in x-tiflux-api-key")
        client = TiFluxClient(
            baseURL: base, apiKey: try Self.apiKey(c), timeout: .milliseconds(c.timeout_ms ?? 15_000),
            retry: RetryPolicy(maxRetries: c.max_retries ?? 3), host: host)
    }

    /// The key from the header (pass-through), else from the environment or a file. Messages name
    /// the source, never the value.
    private static func apiKey(_ c: Configuration) throws -> String {
        let sources = [c.api_key != nil, c.api_key_env != nil, c.api_key_file != nil].filter { $0 }.count
        guard sources <= 1 else {
            throw ToolError("configure one source of the TiFlux API key: the x-tiflux-api-key header (pass-through), api_key_env or api_key_file")
        }
        var key: String
        if let header = c.api_key {
            key = header
        } else if let stored = try ConfigurationValues.secret("api_key", env: c.api_key_env, file: c.api_key_file) {
            key = stored
        } else {
            throw ToolError("no TiFlux API key: send it in the x-tiflux-api-key header (auth mode pass_through), or set api_key_env or api_key_file")
        }
        key = key.trimmedSpaces
        // It becomes an HTTP header value: no control characters, nothing that could split it.
        guard !key.isEmpty, key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ToolError("the TiFlux API key is empty or contains spaces or control characters")
        }
        return key
    }

    // MARK: - tools

    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
        switch tool {
        case "get_ticket":
            let input = try arguments.decode(GetTicketInput.self)
            var query: [(String, String)] = []
            if input.show_entities == true { query = [("show_entities", "true"), ("include_filled_entity", "true")] }
            let reply = try await client.send(
                .init(method: "GET", path: "/tickets/\(input.ticket_number)", query: query, safety: .repeatable,
                      subject: "ticket #\(input.ticket_number)"), context: context)
            let ticket = try object(reply.json, "ticket")
            return .structured(["ticket": ticket] as [String: AnyJSON], text: Rendering.ticket(ticket))

        case "list_tickets":
            let input = try arguments.decode(ListTicketsInput.self)
            let paging = try arguments.decode(Paging.self)
            let reply = try await client.send(
                .init(method: "GET", path: "/tickets", query: try input.query() + paging.query, safety: .repeatable, subject: "tickets"),
                context: context)
            return try page("tickets", reply, paging, line: Rendering.ticketLine)

        case "create_ticket":
            let form = try arguments.decode(CreateTicketInput.self).form()
            let reply = try await client.send(
                .init(method: "POST", path: "/tickets", body: form.body, contentType: form.contentType, safety: .onlyRateLimited,
                      subject: "the client, desk or another referenced record"), context: context)
            // 201 {"ticket": {...}}
            let ticket = try object(reply.json["ticket"] ?? reply.json, "ticket")
            return .structured(["ticket": ticket] as [String: AnyJSON], text: "created " + Rendering.ticket(ticket))

        case "update_ticket":
            let input = try arguments.decode(UpdateTicketInput.self)
            let reply = try await client.send(
                .init(method: "PUT", path: "/tickets/\(input.ticket_number)", body: try JSONEncoder().encode(input.body),
                      contentType: "application/json", safety: .repeatable, subject: "ticket #\(input.ticket_number)"),
                context: context)
            // TiFlux answers PUT with the bare ticket; accept the {"ticket": …} envelope of POST too.
            let ticket = try object(reply.json["ticket"] ?? reply.json, "ticket")
            return .structured(["ticket": ticket] as [String: AnyJSON], text: "updated " + Rendering.ticket(ticket))

        case "close_ticket", "cancel_ticket":
            let number = try arguments.decode(TicketNumberInput.self).ticket_number
            let action = tool == "close_ticket" ? "close" : "cancel"
            let reply = try await client.send(
                .init(method: "PUT", path: "/tickets/\(number)/\(action)", safety: .onlyRateLimited, subject: "ticket #\(number)"),
                context: context)
            return transition(number, state: tool == "close_ticket" ? "closed" : "canceled", reply)

        case "reopen_ticket":
            let input = try arguments.decode(ReopenInput.self)
            var request = TiFluxClient.Request(
                method: "PUT", path: "/tickets/\(input.ticket_number)/reopen", safety: .onlyRateLimited,
                subject: "ticket #\(input.ticket_number)")
            if let reason = input.disapproval_reason {
                request.body = try JSONEncoder().encode(["disapproval_reason": reason])
                request.contentType = "application/json"
            }
            return transition(input.ticket_number, state: "open", try await client.send(request, context: context))

        case "list_ticket_answers":
            let input = try arguments.decode(AnswersInput.self)
            let reply = try await client.send(
                .init(method: "GET", path: "/tickets/\(input.ticket_number)/answers", query: input.paging.query, safety: .repeatable,
                      subject: "ticket #\(input.ticket_number)"), context: context)
            return try page("answers", reply, input.paging, line: Rendering.answerLine, extra: ["ticket_number": .number(Double(input.ticket_number))],
                            heading: "ticket #\(input.ticket_number): ")

        case "add_ticket_answer":
            let input = try arguments.decode(AddAnswerInput.self)
            let form = try input.form()
            let reply = try await client.send(
                .init(method: "POST", path: "/tickets/\(input.ticket_number)/answers", body: form.body, contentType: form.contentType,
                      safety: .onlyRateLimited, subject: "ticket #\(input.ticket_number)"), context: context)
            let answer = try object(reply.json, "answer")
            return .structured(
                ["ticket_number": .number(Double(input.ticket_number)), "answer": answer] as [String: AnyJSON],
                text: "ticket #\(input.ticket_number): added " + Rendering.answerLine(answer))

        case "get_client":
            let input = try arguments.decode(GetClientInput.self)
            let reply = try await client.send(
                .init(method: "GET", path: "/clients/\(input.client_id)", query: input.show_entities == true ? [("show_entities", "true")] : [],
                      safety: .repeatable, subject: "client \(input.client_id)"), context: context)
            let found = try object(reply.json, "client")
            return .structured(["client": found] as [String: AnyJSON], text: Rendering.client(found))

        case "search_clients":
            let input = try arguments.decode(NamedListInput.self)
            var query = [("active", (input.active ?? true) ? "true" : "false")]
            if let name = input.name { query.append(("name", name)) }
            let reply = try await client.send(
                .init(method: "GET", path: "/clients", query: query + input.paging.query, safety: .repeatable, subject: "clients"),
                context: context)
            return try page("clients", reply, input.paging, line: Rendering.clientLine)

        case "list_users":
            return try await listUsers(try arguments.decode(ListUsersInput.self), context: context)

        case "list_desks":
            let input = try arguments.decode(NamedListInput.self)
            var query = [("active", (input.active ?? true) ? "true" : "false")]
            if let name = input.name { query.append(("name", name)) }
            let reply = try await client.send(
                .init(method: "GET", path: "/desks", query: query + input.paging.query, safety: .repeatable, subject: "desks"),
                context: context)
            return try page("desks", reply, input.paging, line: Rendering.deskLine)

        default:
            throw ToolError.unknownTool(tool)
        }
    }

    /// TiFlux's `/users` has no name filter (its own MCP server filters client-side too). Without
    /// `name` this is one page of `/users`; with it, pages of 200 are scanned (at most 10) and the
    /// matches on name or e-mail are paged here.
    private func listUsers(_ input: ListUsersInput, context: ToolContext) async throws -> ToolResult {
        var filters: [(String, String)] = []
        if let type = input.type { filters.append(("type", type)) }
        if let active = input.active { filters.append(("active", active ? "true" : "false")) }
        let paging = input.paging
        guard let name = input.name?.lowercased() else {
            let reply = try await client.send(
                .init(method: "GET", path: "/users", query: filters + paging.query, safety: .repeatable, subject: "users"), context: context)
            return try page("users", reply, paging, line: Rendering.userLine)
        }
        let scanPageSize = Tools.maxPageSize
        let maxScanPages = 10
        var matches: [AnyJSON] = []
        var scanned = 0
        var complete = false
        for scanPage in 1...maxScanPages {
            let reply = try await client.send(
                .init(method: "GET", path: "/users", query: filters + [("offset", String(scanPage)), ("limit", String(scanPageSize))],
                      safety: .repeatable, subject: "users"), context: context)
            let users = try array(reply.json, "users")
            scanned += users.count
            matches += users.filter { user in
                (user["name"]?.string?.lowercased().contains(name) ?? false) || (user["email"]?.string?.lowercased().contains(name) ?? false)
            }
            if users.count < scanPageSize || reply.totalItems.map({ scanned >= $0 }) == true {
                complete = true
                break
            }
        }
        let start = min(matches.count, (paging.pageNumber - 1) * paging.pageSize)
        let slice = Array(matches[start..<min(matches.count, start + paging.pageSize)])
        var result = pageObject("users", slice, paging, total: matches.count, hasMore: start + slice.count < matches.count)
        result["scanned"] = .number(Double(scanned))
        result["complete"] = .bool(complete)
        var text = "users matching '\(input.name ?? "")': " + pageText(slice, paging, total: matches.count, noun: "users", line: Rendering.userLine)
        if !complete { text += "\nonly the first \(scanned) users were scanned; narrow with 'type' or 'active'" }
        return .structured(result, text: text)
    }

    // MARK: - results

    private func transition(_ number: Int, state: String, _ reply: TiFluxClient.Reply) -> ToolResult {
        let message = reply.json["message"]?.string ?? "Ticket \(number) \(state)"
        return .structured(
            ["ticket_number": .number(Double(number)), "state": .string(state), "message": .string(message)] as [String: AnyJSON],
            text: "ticket #\(number) \(state): \(message)")
    }

    private func page(
        _ key: String, _ reply: TiFluxClient.Reply, _ paging: Paging, line: (AnyJSON) -> String,
        extra: [String: AnyJSON] = [:], heading: String = ""
    ) throws -> ToolResult {
        let items = try array(reply.json, key)
        let total = reply.totalItems
        let hasMore = total.map { (paging.pageNumber - 1) * paging.pageSize + items.count < $0 } ?? (items.count == paging.pageSize)
        var result = pageObject(key, items, paging, total: total, hasMore: hasMore)
        result.merge(extra) { _, new in new }
        return .structured(result, text: heading + pageText(items, paging, total: total, noun: key, line: line, hasMore: hasMore))
    }

    private func pageObject(_ key: String, _ items: [AnyJSON], _ paging: Paging, total: Int?, hasMore: Bool) -> [String: AnyJSON] {
        [key: .array(items), "page": .number(Double(paging.pageNumber)), "limit": .number(Double(paging.pageSize)),
         "count": .number(Double(items.count)), "total": total.map { .number(Double($0)) } ?? .null, "has_more": .bool(hasMore)]
    }

    private func pageText(
        _ items: [AnyJSON], _ paging: Paging, total: Int?, noun: String, line: (AnyJSON) -> String, hasMore: Bool = false
    ) -> String {
        var lines = [Rendering.pageSummary(noun: noun, count: items.count, page: paging.pageNumber, limit: paging.pageSize, total: total)]
        lines += items.map(line)
        if hasMore { lines.append("more: page \(paging.pageNumber + 1)") }
        return lines.joined(separator: "\n")
    }

    private func object(_ value: AnyJSON, _ what: String) throws -> AnyJSON {
        guard value.object != nil else { throw ToolError("TiFlux answered without the \(what) object") }
        return value
    }

    private func array(_ value: AnyJSON, _ what: String) throws -> [AnyJSON] {
        guard let items = value.array else { throw ToolError("TiFlux answered without the list of \(what)") }
        return items
    }
}

@_cdecl("mcp_plugin_entry")
public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: TiFluxPlugin.self) }
