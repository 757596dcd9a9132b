import MCPPluginSDK

/// The compact text block of each result (structuredContent carries the full TiFlux objects).
enum Rendering {
    /// One line per ticket: `#12 [open] Printer offline — client Acme · desk Support · stage To do · …`.
    static func ticketLine(_ t: AnyJSON) -> String {
        let number = t["ticket_number"]?.int.map { "#\($0)" } ?? "#?"
        let state = t["is_closed"].map { $0 == .bool(true) ? "closed" : "open" } ?? "?"
        var facts: [String] = []
        for (label, key) in [("client", "client"), ("desk", "desk"), ("stage", "stage"), ("status", "status"),
                             ("priority", "priority"), ("responsible", "responsible")] {
            if let name = t[key]?["name"]?.string { facts.append("\(label) \(name)") }
        }
        if let created = t["created_at"]?.string { facts.append("created \(created)") }
        let title = t["title"]?.string ?? "(no title)"
        return "\(number) [\(state)] \(title)" + (facts.isEmpty ? "" : " — " + facts.joined(separator: " · "))
    }

    /// A full ticket: its line, then requestor, dates and the description as plain text.
    static func ticket(_ t: AnyJSON) -> String {
        var lines = [ticketLine(t)]
        if let requestor = t["requestor"], let name = requestor["name"]?.string {
            lines.append("requestor: \(name)" + (requestor["email"]?.string.map { " <\($0)>" } ?? ""))
        }
        if let updated = t["updated_at"]?.string { lines.append("updated: \(updated)") }
        if let reopened = t["reopen_count"]?.int, reopened > 0 { lines.append("reopened \(reopened) time(s)") }
        if let description = t["description"]?.string {
            let text = plainText(description)
            if !text.isEmpty { lines.append("description: " + truncated(text, 1500)) }
        }
        return lines.joined(separator: "\n")
    }

    static func answerLine(_ a: AnyJSON) -> String {
        let id = a["id"]?.int.map { "answer \($0)" } ?? "answer"
        let author = a["author"]?.string ?? "?"
        let time = a["answer_time"]?.string ?? "?"
        let files = a["files_count"]?.int.map { $0 > 0 ? " (\($0) file(s))" : "" } ?? ""
        let text = a["name"]?.string.map { truncated(plainText($0), 300) } ?? ""
        return "\(id) by \(author) at \(time)\(files): \(text)"
    }

    static func clientLine(_ c: AnyJSON) -> String {
        var line = "client \(c["id"]?.int.map(String.init) ?? "?"): \(c["name"]?.string ?? "?")"
        if let social = c["social"]?.string, !social.isEmpty { line += " (\(social))" }
        if let active = c["status"] { line += active == .bool(true) ? " · active" : " · inactive" }
        return line
    }

    static func client(_ c: AnyJSON) -> String {
        var lines = [clientLine(c)]
        if let revenue = c["social_revenue"]?.string, !revenue.isEmpty { lines.append("legal name: \(revenue)") }
        if let email = c["email_financial"]?.string, !email.isEmpty { lines.append("financial e-mail: \(email)") }
        let desks = (c["desks"]?.array ?? []).compactMap { d in d["name"]?.string.map { "\($0) (\(d["id"]?.int.map(String.init) ?? "?"))" } }
        if !desks.isEmpty { lines.append("desks: " + desks.joined(separator: ", ")) }
        let groups = (c["technical_groups"]?.array ?? []).compactMap { $0["name"]?.string }
        if !groups.isEmpty { lines.append("technical groups: " + groups.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }

    static func userLine(_ u: AnyJSON) -> String {
        var line = "user \(u["id"]?.int.map(String.init) ?? "?"): \(u["name"]?.string ?? "?")"
        if let email = u["email"]?.string { line += " <\(email)>" }
        if let type = u["_type"]?.string { line += " · \(type)" }
        if u["active"] == .bool(false) { line += " · inactive" }
        return line
    }

    static func deskLine(_ d: AnyJSON) -> String {
        var line = "desk \(d["id"]?.int.map(String.init) ?? "?"): \(d["name"]?.string ?? "?")"
        if let display = d["display_name"]?.string, display != d["name"]?.string { line += " (\(display))" }
        if d["active"] == .bool(false) { line += " · inactive" }
        return line
    }

    /// `showing 1–20 of 57 (page 1)`.
    static func pageSummary(noun: String, count: Int, page: Int, limit: Int, total: Int?) -> String {
        if count == 0 { return "no \(noun)" + (page > 1 ? " on page \(page)" : "") }
        let first = (page - 1) * limit + 1
        let of = total.map { " of \($0)" } ?? ""
        return "\(noun) \(first)–\(first + count - 1)\(of) (page \(page))"
    }

    /// TiFlux descriptions and answers are HTML: tags dropped, line breaks kept, common entities decoded.
    static func plainText(_ html: String) -> String {
        var out = ""
        var tag = ""
        var inTag = false
        for ch in html {
            if inTag {
                if ch == ">" {
                    inTag = false
                    let name = tag.lowercased().split(whereSeparator: { $0 == " " || $0 == "/" }).first.map(String.init) ?? ""
                    if ["br", "p", "div", "li", "tr", "h1", "h2", "h3"].contains(name) { out += "\n" }
                    tag = ""
                } else {
                    tag.append(ch)
                }
            } else if ch == "<" {
                inTag = true
            } else {
                out.append(ch)
            }
        }
        for (entity, value) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            out = out.replacing(entity, with: value)
        }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ") }
            .filter { !$0.isEmpty }
        return lines.joined(separator: "\n")
    }

    /// Plain text → the HTML TiFlux stores (escaped, one paragraph per line).
    static func html(fromPlainText text: String) -> String {
        var escaped = ""
        for ch in text {
            switch ch {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(ch)
            }
        }
        return escaped.split(separator: "\n", omittingEmptySubsequences: false).map { "<p>\($0)</p>" }.joined()
    }

    static func truncated(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}

extension AnyJSON {
    /// An integral JSON number as Int.
    var int: Int? {
        guard let number, number.rounded() == number, abs(number) < 9e15 else { return nil }
        return Int(number)
    }
}
