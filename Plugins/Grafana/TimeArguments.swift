/// Times and durations for query_prometheus_datasource, parsed in the plugin so a range query's
/// size is checked before anything is sent and relative times ("now-1h") mean the host's clock.
enum TimeArguments {
    /// A time or duration argument: a JSON number or a string.
    struct Value: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                text = format(number)
            } else {
                text = try container.decode(String.self)
            }
        }
    }

    /// Unix seconds, RFC 3339, `now`, or `now-<duration>` / `now+<duration>`; nil when none of these.
    static func timestamp(_ text: String, now: Double) -> Double? {
        let t = text.trimmedWhitespace
        if let seconds = Double(t), seconds.isFinite { return seconds }
        if t == "now" { return now }
        if t.hasPrefix("now-") || t.hasPrefix("now+") {
            guard let offset = duration(String(t.dropFirst(4))) else { return nil }
            return t.hasPrefix("now-") ? now - offset : now + offset
        }
        return rfc3339(t)
    }

    /// Seconds (`15`, `0.5`) or a Prometheus duration (`15s`, `1m30s`, `2h`, `500ms`, `1d`, `1w`).
    static func duration(_ text: String) -> Double? {
        let t = text.trimmedWhitespace
        if let seconds = Double(t), seconds.isFinite { return seconds }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800), ("y", 31_536_000)]
        var rest = Substring(t)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty, let amount = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            // "ms" before "m" so 500ms is not read as 500 minutes followed by "s".
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += amount * scale
        }
        return total
    }

    /// `2023-11-14T22:13:20Z`, `2023-11-14T23:13:20.5+01:00`.
    static func rfc3339(_ s: String) -> Double? {
        let b = Array(s.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var value = 0
            for i in from..<(from + count) {
                guard (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, let year = number(0, 4), b[4] == 45, let month = number(5, 2), b[7] == 45, let day = number(8, 2),
            [84, 116, 32].contains(b[10]), let hour = number(11, 2), b[13] == 58, let minute = number(14, 2), b[16] == 58,
            let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, (48...57).contains(b[i]) {
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
        } else if b[i] == 43 || b[i] == 45, let oh = number(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = number(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// `1700000000` for whole seconds, `1700000000.5` otherwise (what Prometheus accepts).
    static func format(_ seconds: Double) -> String {
        if seconds.rounded() == seconds, abs(seconds) < 1e15 { return String(Int64(seconds)) }
        return String(seconds)
    }
}
