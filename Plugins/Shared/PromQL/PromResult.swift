import MCPPluginSDK

/// What both Prometheus-speaking plugins say about a query: the range-size rule checked before
/// sending, and the compact text rendering of a result (`structuredContent` carries the full data).
public enum PromQuery {
    /// Prometheus refuses range queries of more than 11,000 points per series.
    public static let maxPoints = 11_000

    /// nil when `[start, end]` every `step` s is within the limit; otherwise the refusal, naming the
    /// smallest step that would be accepted.
    public static func rangeRefusal(start: Double, end: Double, step: Double) -> String? {
        let points = ((end - start) / step).rounded(.down) + 1
        guard points > Double(maxPoints) else { return nil }
        let minimumStep = ((end - start) / Double(maxPoints - 1)).rounded(.up)
        return "range query refused: \(grouped(points)) points per series (from \(PromTime.format(start)) to "
            + "\(PromTime.format(end)) every \(PromTime.format(step))s) exceeds Prometheus' limit of 11,000; "
            + "use a step of at least \(PromTime.format(minimumStep))s or a shorter range"
    }

    /// One line per series: `name{a="1"} 400 @1700000600`, or the first points of a range.
    public static func render(type: String, result: AnyJSON) -> String {
        func sample(_ pair: AnyJSON?) -> String {
            guard let pair = pair?.array, pair.count == 2 else { return "?" }
            return "\(pair[1].string ?? "?") @\(pair[0].number.map(PromTime.format) ?? "?")"
        }
        func name(_ item: AnyJSON) -> String { seriesName(item["metric"]?.object?.compactMapValues(\.string) ?? [:]) }
        switch type {
        case "scalar", "string":
            return "\(type) \(sample(result))"
        case "vector":
            let items = result.array ?? []
            if items.isEmpty { return "empty vector (no series matched at that time)" }
            var lines = items.prefix(100).map { "\(name($0)) \(sample($0["value"]))" }
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
                lines.append("\(name(item)) [\(values.count) points]: \(points)")
            }
            if items.count > 50 { lines.append("… \(items.count - 50) more series") }
            return lines.joined(separator: "\n")
        default:
            return type
        }
    }

    /// `name{a="1",b="2"}` with label values escaped as PromQL writes them.
    public static func seriesName(_ labels: [String: String]) -> String {
        let name = labels["__name__"] ?? ""
        let rest = labels.filter { $0.key != "__name__" }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\"\($0.value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))\"" }
        if rest.isEmpty { return name.isEmpty ? "{}" : name }
        return name + "{" + rest.joined(separator: ",") + "}"
    }

    /// 12345 → "12,345".
    public static func grouped(_ value: Double) -> String {
        var digits = Array(PromTime.format(value))
        var out: [Character] = []
        while digits.count > 3 {
            out = [","] + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return String(digits + out)
    }
}

/// A time or duration argument: a JSON number or a string.
public struct PromTimeArgument: Decodable, Sendable {
    public var text: String
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            text = PromTime.format(number)
        } else {
            text = try container.decode(String.self)
        }
    }
}
