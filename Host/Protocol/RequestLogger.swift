import Logging

/// Logs one request's lines with its `request_id` and `tenant`. Metadata is assembled only when a
/// line is actually written, so the request path pays nothing at quieter log levels.
struct RequestLogger: Sendable {
    let base: Logger
    let requestID: String
    let tenantID: String

    func log(_ level: Logger.Level, _ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata?) {
        guard base.logLevel <= level else { return }
        var all = metadata ?? [:]
        all["request_id"] = .string(requestID)
        all["tenant"] = .string(tenantID)
        base.log(level: level, message(), metadata: all)
    }

    func debug(_ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata? = nil) {
        log(.debug, message(), metadata: metadata)
    }
    func info(_ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata? = nil) {
        log(.info, message(), metadata: metadata)
    }
    func warning(_ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata? = nil) {
        log(.warning, message(), metadata: metadata)
    }
    func error(_ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata? = nil) {
        log(.error, message(), metadata: metadata)
    }
}
