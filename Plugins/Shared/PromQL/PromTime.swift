import MCPPluginSDK

/// Times and durations as Prometheus' HTTP API accepts them, parsed in the plugins (prometheus, and
/// grafana's query_prometheus_datasource) so a range query's size is checked before it is sent.
public enum PromTime {
    /// Unix seconds (`1700000600`, `"1700000600.5"`) or RFC 3339 (`"2023-11-14T22:23:20Z"`,
    /// `"2023-11-14T23:23:20.5+01:00"`); with `now`, also `now` and `now-<duration>` /
    /// `now+<duration>` relative to it. nil when it is none of these.
    public static func parseTimestamp(_ text: String, now: Double? = nil) -> Double? {
        let trimmed = text.trimmed
        if let seconds = Double(trimmed), seconds.isFinite { return seconds }
        if let now {
            if trimmed == "now" { return now }
            if trimmed.hasPrefix("now-") || trimmed.hasPrefix("now+") {
                guard let offset = parseDuration(String(trimmed.dropFirst(4))) else { return nil }
                return trimmed.hasPrefix("now-") ? now - offset : now + offset
            }
        }
        return parseRFC3339(trimmed)
    }

    public static func parseRFC3339(_ s: String) -> Double? {
        let b = Array(s.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var value = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2),
            b[16] == 58, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = digits(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Int(CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)))
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// Seconds, or a Prometheus duration (`15s`, `1m30s`, `500ms`, `2h`, `1d`, `1w`, `1y`).
    public static func parseDuration(_ text: String) -> Double? {
        let s = text.trimmed
        if let seconds = Double(s), seconds.isFinite { return seconds }
        let b = Array(s.utf8)
        guard !b.isEmpty else { return nil }
        var i = 0
        var total = 0.0
        while i < b.count {
            var number = 0.0
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                number = number * 10 + Double(b[i] - 48)
                i += 1
            }
            guard i > start, i < b.count else { return nil }
            let unit: Double
            if b[i] == 109, i + 1 < b.count, b[i + 1] == 115 {  // ms
                unit = 0.001
                i += 2
            } else {
                switch b[i] {
                case 115: unit = 1  // s
                case 109: unit = 60  // m
                case 104: unit = 3600  // h
                case 100: unit = 86_400  // d
                case 119: unit = 604_800  // w
                case 121: unit = 31_536_000  // y
                default: return nil
                }
                i += 1
            }
            total += number * unit
        }
        return total
    }

    /// Seconds as Prometheus accepts them (`1700000600`, `1700000600.5`).
    public static func format(_ seconds: Double) -> String {
        if seconds.rounded() == seconds, abs(seconds) < 1e15 { return String(Int64(seconds)) }
        return String(seconds)
    }
}

extension String {
    fileprivate var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
