import MCPPluginSDK

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// query_prometheus_datasource: PromQL through Grafana's resource API of a Prometheus datasource,
/// `POST /api/datasources/uid/{uid}/resources/api/v1/query|query_range` (form body), which answers
/// with Prometheus' own JSON.
extension GrafanaPlugin {
    struct PrometheusInput: Decodable {
        var datasource_uid: String
        var expr: String
        var query_type: String?
        var time: TimeArguments.Value?
        var start: TimeArguments.Value?
        var end: TimeArguments.Value?
        var step: TimeArguments.Value?
    }
    struct PrometheusResult: Encodable {
        var datasource_uid: String
        var query_type: String
        var resultType: String
        var result: AnyJSON
        var warnings: [String]?
    }

    /// Prometheus refuses range queries of more than 11,000 points per series.
    static let maxPoints = 11_000.0

    func queryPrometheus(_ input: PrometheusInput, _ context: ToolContext) async throws -> ToolResult {
        let now = Double(client.host.nowUnixMilliseconds()) / 1000
        let kind = input.query_type ?? "instant"
        func time(_ value: TimeArguments.Value, _ name: String) throws -> Double {
            guard let seconds = TimeArguments.timestamp(value.text, now: now) else {
                throw ToolError.invalidArguments(
                    "argument '\(name)': '\(value.text)' is not Unix seconds, RFC 3339, 'now' or 'now-<duration>'")
            }
            return seconds
        }
        var form = [("query", input.expr)]
        let endpoint: String
        switch kind {
        case "instant":
            for (value, name) in [(input.start, "start"), (input.end, "end"), (input.step, "step")] where value != nil {
                throw ToolError.invalidArguments("argument '\(name)' applies to query_type 'range' only (instant queries take 'time')")
            }
            form.append(("time", TimeArguments.format(try input.time.map { try time($0, "time") } ?? now)))
            endpoint = "query"
        case "range":
            if input.time != nil { throw ToolError.invalidArguments("argument 'time' applies to query_type 'instant' only") }
            guard let startValue = input.start else { throw ToolError.invalidArguments("argument 'start' is required for a range query") }
            guard let endValue = input.end else { throw ToolError.invalidArguments("argument 'end' is required for a range query") }
            guard let stepValue = input.step else { throw ToolError.invalidArguments("argument 'step' is required for a range query") }
            let start = try time(startValue, "start")
            let end = try time(endValue, "end")
            guard let step = TimeArguments.duration(stepValue.text), step > 0 else {
                throw ToolError.invalidArguments(
                    "argument 'step': '\(stepValue.text)' is not a positive number of seconds or a duration like 15s")
            }
            guard end >= start else {
                throw ToolError.invalidArguments("argument 'end' (\(endValue.text)) is before 'start' (\(startValue.text))")
            }
            let points = ((end - start) / step).rounded(.down) + 1
            guard points <= Self.maxPoints else {
                let minimum = ((end - start) / (Self.maxPoints - 1)).rounded(.up)
                throw ToolError.invalidArguments(
                    "range query refused: \(TimeArguments.format(points)) points per series exceeds Prometheus' limit of 11000; "
                        + "use a step of at least \(TimeArguments.format(minimum))s or a shorter range")
            }
            form += [("start", TimeArguments.format(start)), ("end", TimeArguments.format(end)), ("step", TimeArguments.format(step))]
            endpoint = "query_range"
        default:
            throw ToolError.invalidArguments("argument 'query_type' must be 'instant' or 'range'")
        }

        // The datasource first: "Data source not found" and a wrong type are clearer than whatever
        // the resource route of another plugin answers.
        let uid = input.datasource_uid
        let datasource = try await client.send(
            "GET", "/api/datasources/uid/\(GrafanaClient.segment(uid))", about: "datasource uid '\(uid)'", context: context)
        let type = datasource["type"]?.string ?? ""
        guard type.contains("prometheus") else {
            throw ToolError("datasource '\(uid)' is of type '\(type)': query_prometheus_datasource needs a Prometheus-type datasource")
        }

        let response = try await client.exchange(
            "POST", "/api/datasources/uid/\(GrafanaClient.segment(uid))/resources/api/v1/\(endpoint)", body: .form(form), context: context)
        let body = try? JSONDecoder().decode(AnyJSON.self, from: response.body)
        // Prometheus' envelope: {"status":"success","data":{...},"warnings"?} or {"status":"error","errorType","error"}.
        if let message = body?["error"]?.string {
            let type = body?["errorType"]?.string.map { ", \($0)" } ?? ""
            throw ToolError(
                client.redacted("Prometheus error through Grafana datasource '\(uid)' (HTTP \(response.status)\(type)): \(message)"))
        }
        guard (200..<300).contains(response.status) else {
            throw ToolError(
                client.redacted(
                    GrafanaClient.failure(status: response.status, body: body, text: response.text, subject: "datasource '\(uid)' query")))
        }
        guard body?["status"]?.string == "success", let data = body?["data"], let resultType = data["resultType"]?.string,
            let result = data["result"]
        else {
            throw ToolError("datasource '\(uid)' answered without a Prometheus result: \(GrafanaClient.excerpt(response.text))")
        }
        let warnings = (body?["warnings"]?.array ?? []).compactMap(\.string)
        var text = Self.render(type: resultType, result: result)
        if !warnings.isEmpty { text += "\nwarnings: " + warnings.joined(separator: "; ") }
        return .structured(
            PrometheusResult(
                datasource_uid: uid, query_type: kind, resultType: resultType, result: result, warnings: warnings.isEmpty ? nil : warnings),
            text: text)
    }

    /// One line per series: `name{a="1"} 400 @1700000600`, or the first points of a range.
    static func render(type: String, result: AnyJSON) -> String {
        func sample(_ pair: AnyJSON?) -> String {
            guard let pair = pair?.array, pair.count == 2 else { return "?" }
            return "\(pair[1].string ?? "?") @\(pair[0].number.map(TimeArguments.format) ?? "?")"
        }
        func series(_ item: AnyJSON) -> String {
            let labels = item["metric"]?.object?.compactMapValues(\.string) ?? [:]
            let rest = labels.filter { $0.key != "__name__" }.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }
            let name = labels["__name__"] ?? ""
            return rest.isEmpty ? (name.isEmpty ? "{}" : name) : "\(name){\(rest.joined(separator: ","))}"
        }
        switch type {
        case "scalar", "string":
            return "\(type) \(sample(result))"
        case "vector":
            let items = result.array ?? []
            if items.isEmpty { return "empty vector (no series matched at that time)" }
            var lines = items.prefix(100).map { "\(series($0)) \(sample($0["value"]))" }
            if items.count > 100 { lines.append("… \(items.count - 100) more series") }
            return lines.joined(separator: "\n")
        case "matrix":
            let items = result.array ?? []
            if items.isEmpty { return "empty matrix (no series matched in that range)" }
            var lines: [String] = []
            for item in items.prefix(50) {
                let values = item["values"]?.array ?? []
                var points = values.prefix(20).map { sample($0) }.joined(separator: ", ")
                if values.count > 20 { points += ", … \(values.count - 20) more" }
                lines.append("\(series(item)) [\(values.count) points]: \(points)")
            }
            if items.count > 50 { lines.append("… \(items.count - 50) more series") }
            return lines.joined(separator: "\n")
        default:
            return type
        }
    }
}
