import MCPPluginSDK

/// The three time formats the plugin meets, converted without ICU (FoundationEssentials has no
/// date formatters for HTTP dates): ISO 8601 arguments and `RateLimit-Reset` values, the
/// `YYYY-MM-DDTHH:MM:SSZ` form TiFlux's query parameters want, and RFC 9110 HTTP dates in
/// `Retry-After`.
enum Timestamps {
    /// `2024-05-01`, `2024-05-01T12:30:00Z`, `2024-05-01T09:30:00-03:00`, `2024-05-01T12:30:00.250Z`
    /// → Unix seconds (a date alone is midnight UTC). nil when it is none of these.
    static func parseISO8601(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 10, let year = digits(b, 0, 4), b[4] == 45, let month = digits(b, 5, 2), b[7] == 45,
            let day = digits(b, 8, 2), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        let midnight = CivilDate.days(year: year, month: month, day: day) * 86_400
        if b.count == 10 { return midnight }
        guard b.count >= 20, b[10] == 84 || b[10] == 116, let hour = digits(b, 11, 2), b[13] == 58,
            let minute = digits(b, 14, 2), b[16] == 58, let second = digits(b, 17, 2), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        if i < b.count, b[i] == 46 {  // fraction: accepted, dropped (TiFlux works in whole seconds)
            i += 1
            let start = i
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {  // Z
            i += 1
        } else if b[i] == 43 || b[i] == 45 {  // +hh:mm / -hh:mm
            guard let hh = digits(b, i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let mm = digits(b, i + 4, 2), hh < 24, mm < 60
            else { return nil }
            offset = (hh * 3600 + mm * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        return midnight + hour * 3600 + minute * 60 + second - offset
    }

    /// Unix seconds → `2024-05-01T12:30:00Z`.
    static func formatUTC(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2))Z"
    }

    /// `Retry-After` as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, the only form RFC 9110 asks
    /// senders to produce) → Unix seconds.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int64(parts[1]), let year = Int64(parts[3]),
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                .firstIndex(of: String(parts[2])).map({ Int64($0) + 1 })
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int64(clock[0]), let minute = Int64(clock[1]), let second = Int64(clock[2]),
            (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return CivilDate.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    // MARK: - civil calendar (proleptic Gregorian; H. Hinnant's days_from_civil)

    private static func digits(_ b: [UInt8], _ from: Int, _ count: Int) -> Int64? {
        guard from >= 0, from + count <= b.count else { return nil }
        var value: Int64 = 0
        for i in from..<(from + count) {
            guard (48...57).contains(b[i]) else { return nil }
            value = value * 10 + Int64(b[i] - 48)
        }
        return value
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
