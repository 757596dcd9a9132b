import MCPPluginSDK

/// The two date formats S3 uses, as milliseconds since the Unix epoch (UTC):
/// ISO 8601 in listings (`2024-01-02T03:04:05.000Z`) and RFC 7231 IMF-fixdate in headers
/// (`Tue, 02 Jan 2024 03:04:05 GMT`). Written out because FoundationEssentials has no
/// DateFormatter, and both formats are fixed-width.
enum S3Dates {
    static func iso8601Milliseconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2)
        else { return nil }
        var millis: Int64 = 0
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100
            while i < b.count, let d = digit(b[i]) {
                millis += Int64(d) * scale
                scale /= 10
                i += 1
            }
        }
        guard i == b.count - 1, b[i] == UInt8(ascii: "Z") else { return nil }
        return epochMilliseconds(year, month, day, hour, minute, second) + millis
    }

    static func httpDateMilliseconds(_ text: String) -> Int64? {
        // "Tue, 02 Jan 2024 03:04:05 GMT"
        let b = Array(text.utf8)
        guard b.count == 29, b[3] == UInt8(ascii: ","), text.hasSuffix(" GMT"),
            let day = number(b, 5, 2), let year = number(b, 12, 4),
            let hour = number(b, 17, 2), let minute = number(b, 20, 2), let second = number(b, 23, 2)
        else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let monthName = String(decoding: b[8..<11], as: UTF8.self)
        guard let month = months.firstIndex(of: monthName) else { return nil }
        return epochMilliseconds(year, month + 1, day, hour, minute, second)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 48 && byte <= 57 ? Int(byte - 48) : nil
    }

    private static func number(_ b: [UInt8], _ start: Int, _ length: Int) -> Int? {
        var value = 0
        for i in start..<(start + length) {
            guard let d = digit(b[i]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    static func epochMilliseconds(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Int64 {
        let days = CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day))
        return ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000
    }

    /// `2024-01-02T03:04:05.678Z` (UTC).
    static func iso8601(milliseconds: Int64) -> String {
        let totalSeconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - totalSeconds * 1000)
        let (days, secondOfDay) = CivilDate.split(unixSeconds: totalSeconds)
        let seconds = Int(secondOfDay)
        let (y, m, d) = CivilDate.date(days: days)
        func pad(_ v: Int, _ width: Int) -> String {
            let text = String(v)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(y), 4))-\(pad(Int(m), 2))-\(pad(Int(d), 2))T\(pad(seconds / 3600, 2)):\(pad(seconds % 3600 / 60, 2)):\(pad(seconds % 60, 2)).\(pad(millis, 3))Z"
    }
}
