import MCPPluginSDK

/// Tool arguments. The host already checked them against each inputSchema; what a schema cannot
/// say (date syntax, date order) is checked here, and failures name the argument.

struct Paging: Decodable {
    var page: Int?
    var limit: Int?
    var pageNumber: Int { page ?? 1 }
    var pageSize: Int { min(limit ?? 20, Tools.maxPageSize) }
    /// TiFlux: `offset` is the page number (1-based), `limit` the page size.
    var query: [(String, String)] { [("offset", String(pageNumber)), ("limit", String(pageSize))] }
}

struct TicketNumberInput: Decodable {
    var ticket_number: Int
}

struct GetTicketInput: Decodable {
    var ticket_number: Int
    var show_entities: Bool?
}

struct ListTicketsInput: Decodable {
    var state: String?
    var desk_ids: [Int]?
    var client_ids: [Int]?
    var stage_ids: [Int]?
    var responsible_ids: [Int]?
    var status_id: Int?
    var requestor_email: String?
    var date_type: String?
    var start: String?
    var end: String?

    /// TiFlux's query: `filter_by` (which wins over `is_closed`; `is_closed` is also sent, as
    /// TiFlux's own client does, for API versions that predate `filter_by`), the id lists as
    /// comma-separated values, and the date range as `YYYY-MM-DDTHH:MM:SSZ`.
    func query() throws -> [(String, String)] {
        var query: [(String, String)] = []
        let state = state ?? "open"
        query.append(("filter_by", state))
        if state != "all" { query.append(("is_closed", state == "open" ? "false" : "true")) }
        for (name, ids) in [("desk_ids", desk_ids), ("client_ids", client_ids), ("stage_ids", stage_ids), ("responsible_ids", responsible_ids)] {
            if let ids, !ids.isEmpty { query.append((name, ids.map(String.init).joined(separator: ","))) }
        }
        if let status_id { query.append(("status_id", String(status_id))) }
        if let requestor_email { query.append(("requestor_email", requestor_email)) }
        let from = try start.map { try DateArgument.seconds($0, argument: "start", endOfDay: false) }
        let until = try end.map { try DateArgument.seconds($0, argument: "end", endOfDay: true) }
        // TiFlux wants end_datetime strictly after start_datetime.
        if let from, let until, until <= from {
            throw ToolError.invalidArguments("argument 'end' (\(end ?? "")) must be after 'start' (\(start ?? ""))")
        }
        if from != nil || until != nil { query.append(("date_type", date_type ?? "created_at")) }
        if let from { query.append(("start_datetime", Timestamps.formatUTC(from))) }
        if let until { query.append(("end_datetime", Timestamps.formatUTC(until))) }
        return query
    }
}

enum DateArgument {
    /// ISO 8601 date or datetime → Unix seconds; a date alone as `end` means the last second of that day.
    static func seconds(_ text: String, argument: String, endOfDay: Bool) throws -> Int64 {
        guard let seconds = Timestamps.parseISO8601(text.trimmedSpaces) else {
            throw ToolError.invalidArguments(
                "argument '\(argument)': '\(text)' is not an ISO 8601 date or datetime (e.g. 2024-05-01 or 2024-05-01T08:00:00Z)")
        }
        return endOfDay && text.trimmedSpaces.utf8.count == 10 ? seconds + 86_399 : seconds
    }
}

struct CreateTicketInput: Decodable {
    var title: String
    var description: String
    var client_id: Int
    var desk_id: Int
    var priority_id: Int?
    var services_catalogs_item_id: Int?
    var status_id: Int?
    var stage_id: Int?
    var responsible_id: Int?
    var requestor_id: Int?
    var requestor_name: String?
    var requestor_email: String?
    var requestor_telephone: String?
    var followers: [String]?
    var parent_ticket_number: Int?

    func form() throws -> MultipartForm {
        if requestor_id != nil, requestor_name != nil || requestor_email != nil || requestor_telephone != nil {
            throw ToolError.invalidArguments(
                "argument 'requestor_id': give either an existing requestor_id or requestor_name/requestor_email/requestor_telephone, not both")
        }
        var form = MultipartForm()
        form.add("title", title)
        form.add("description", description)
        form.add("client_id", client_id)
        form.add("desk_id", desk_id)
        form.add("priority_id", priority_id)
        form.add("services_catalogs_item_id", services_catalogs_item_id)
        form.add("status_id", status_id)
        form.add("stage_id", stage_id)
        form.add("responsible_id", responsible_id)
        form.add("requestor_id", requestor_id)
        form.add("requestor_name", requestor_name)
        form.add("requestor_email", requestor_email)
        form.add("requestor_telephone", requestor_telephone)
        form.add("followers", try followers.map { try Followers.csv($0) })
        form.add("ticket_reference_number", parent_ticket_number)
        return form
    }
}

enum Followers {
    /// TiFlux takes followers as one comma-separated string of e-mail addresses.
    static func csv(_ emails: [String]) throws -> String {
        for (index, email) in emails.enumerated() {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(","), !email.contains(" ") else {
                throw ToolError.invalidArguments("argument 'followers[\(index)]': '\(email)' is not an e-mail address")
            }
        }
        return emails.joined(separator: ",")
    }
}

/// `update_ticket`: only the fields present are sent; `responsible_id: null` (TiFlux unassigns)
/// and `parent_ticket_number: null` (TiFlux drops the parent) are kept as null, which a plain
/// optional could not tell from "absent".
struct UpdateTicketInput: Decodable {
    var ticket_number: Int
    var body: [String: AnyJSON] = [:]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let integerFields = ["stage_id", "status_id", "priority_id", "services_catalogs_item_id", "desk_id", "requestor_id"]
    static let textFields = ["title", "description", "priority_change_reason"]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        ticket_number = try container.decode(Int.self, forKey: Key(stringValue: "ticket_number"))
        for name in Self.integerFields {
            if let value = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: name)) { body[name] = .number(Double(value)) }
        }
        for name in Self.textFields {
            if let value = try container.decodeIfPresent(String.self, forKey: Key(stringValue: name)) { body[name] = .string(value) }
        }
        // null is meaningful for these two: no responsible, no parent ticket.
        for (argument, field) in [("responsible_id", "responsible_id"), ("parent_ticket_number", "ticket_reference_number")] {
            let key = Key(stringValue: argument)
            if container.contains(key) {
                body[field] = try container.decodeNil(forKey: key) ? .null : .number(Double(try container.decode(Int.self, forKey: key)))
            }
        }
        if let followers = try container.decodeIfPresent([String].self, forKey: Key(stringValue: "followers")) {
            body["followers"] = .string(try Followers.csv(followers))  // "" clears the list
        }
        if body.isEmpty {
            throw ToolError.invalidArguments(
                "arguments: give at least one field to change (title, description, stage_id, status_id, priority_id, responsible_id, followers, ...)")
        }
        if body["priority_change_reason"] != nil && body["priority_id"] == nil {
            throw ToolError.invalidArguments("argument 'priority_change_reason' is only meaningful with 'priority_id'")
        }
    }
}

struct ReopenInput: Decodable {
    var ticket_number: Int
    var disapproval_reason: String?
}

struct AnswersInput: Decodable {
    var ticket_number: Int
    var page: Int?
    var limit: Int?
    var paging: Paging { Paging(page: page, limit: limit) }
}

struct AddAnswerInput: Decodable {
    var ticket_number: Int
    var text: String
    var format: String?
    var with_signature: Bool?

    func form() throws -> MultipartForm {
        guard !text.trimmedSpaces.isEmpty else { throw ToolError.invalidArguments("argument 'text' is blank") }
        var form = MultipartForm()
        form.add("name", format == "html" ? text : Rendering.html(fromPlainText: text))
        form.add("with_signature", with_signature.map { $0 ? "true" : "false" })
        return form
    }
}

struct GetClientInput: Decodable {
    var client_id: Int
    var show_entities: Bool?
}

/// `search_clients` and `list_desks`.
struct NamedListInput: Decodable {
    var name: String?
    var active: Bool?
    var page: Int?
    var limit: Int?
    var paging: Paging { Paging(page: page, limit: limit) }
}

struct ListUsersInput: Decodable {
    var name: String?
    var type: String?
    var active: Bool?
    var page: Int?
    var limit: Int?
    var paging: Paging { Paging(page: page, limit: limit) }
}
