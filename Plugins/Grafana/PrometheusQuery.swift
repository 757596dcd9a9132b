import MCPPluginSDK
import PromQLSupport

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
        var time: PromTimeArgument?
        var start: PromTimeArgument?
        var end: PromTimeArgument?
        var step: PromTimeArgument?
    }
    struct PrometheusResult: Encodable {
        var datasource_uid: String
        var query_type: String
        var resultType: String
        var result: AnyJSON
        var warnings: [String]?
    }

    func queryPrometheus(_ input: PrometheusInput, _ context: ToolContext) async throws -> ToolResult {
        let now = Double(client.host.nowUnixMilliseconds()) / 1000
        let kind = input.query_type ?? "instant"
        func time(_ value: PromTimeArgument, _ name: String) throws -> Double {
            guard let seconds = PromTime.parseTimestamp(value.text, now: now) else {
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
            form.append(("time", PromTime.format(try input.time.map { try time($0, "time") } ?? now)))
            endpoint = "query"
        case "range":
            if input.time != nil { throw ToolError.invalidArguments("argument 'time' applies to query_type 'instant' only") }
            guard let startValue = input.start else { throw ToolError.invalidArguments("argument 'start' is required for a range query") }
            guard let endValue = input.end else { throw ToolError.invalidArguments("argument 'end' is required for a range query") }
            guard let stepValue = input.step else { throw ToolError.invalidArguments("argument 'step' is required for a range query") }
            let start = try time(startValue, "start")
            let end = try time(endValue, "end")
            guard let step = PromTime.parseDuration(stepValue.text), step > 0 else {
                throw ToolError.invalidArguments(
                    "argument 'step': '\(stepValue.text)' is not a positive number of seconds or a duration like 15s")
            }
            guard end >= start else {
                throw ToolError.invalidArguments("argument 'end' (\(endValue.text)) is before 'start' (\(startValue.text))")
            }
            if let refusal = PromQuery.rangeRefusal(start: start, end: end, step: step) {
                throw ToolError.invalidArguments(refusal)
            }
            form += [("start", PromTime.format(start)), ("end", PromTime.format(end)), ("step", PromTime.format(step))]
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
        let body = try? response.json()
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
        var text = PromQuery.render(type: resultType, result: result)
        if !warnings.isEmpty { text += "\nwarnings: " + warnings.joined(separator: "; ") }
        return .structured(
            PrometheusResult(
                datasource_uid: uid, query_type: kind, resultType: resultType, result: result, warnings: warnings.isEmpty ? nil : warnings),
            text: text)
    }
}
