import Logging
import MCPJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// swift-log handler writing one JSON object per line:
/// `{"ts":"2026-11-22T05:10:00.123Z","level":"info","label":"mcp-host","msg":"...","request_id":"..."}`.
/// Metadata values are written as strings. Secrets never reach a logger: callers log tenant ids
/// (hashes) and redacted values only — this handler adds a last guard that drops metadata keys
/// that name credentials.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let redactedKeys: Set<String> = [
        "authorization", "x-api-key", "api_key", "apikey", "token", "password", "secret", "cookie",
    ]

    public func log(event: LogEvent) {
        var object = JSONObject()
        object["ts"] = .string(Self.timestamp())
        object["level"] = .string(event.level.rawValue)
        object["label"] = .string(label)
        object["msg"] = .string(event.message.description)
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            if Self.redactedKeys.contains(key.lowercased()) {
                object[key] = "[redacted]"
            } else {
                object[key] = Self.json(value)
            }
        }
        var line = JSONValue.object(object).serialized()
        line.append(0x0A)
        sink.write(line)
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d):
            var o = JSONObject()
            for key in d.keys.sorted() { o[key] = json(d[key]!) }
            return .object(o)
        }
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}

/// Where log lines go. Writes of one line are atomic with respect to each other (one write(2)).
public struct LogSink: Sendable {
    private let writeLine: @Sendable ([UInt8]) -> Void
    public init(_ write: @escaping @Sendable ([UInt8]) -> Void) { writeLine = write }
    public func write(_ line: [UInt8]) { writeLine(line) }

    public static let standardError = LogSink { line in
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
