/// The MCP revisions this host speaks.
public enum ProtocolVersion {
    /// Stateless revision: no initialize, no sessions; every request carries `_meta`.
    public static let stateless = "2026-07-28"
    /// Session revisions, newest first. `initialize` negotiates one of these.
    public static let sessionRevisions = ["2025-11-25", "2025-06-18", "2025-03-26"]
    public static let all = [stateless] + sessionRevisions
    /// What a session request without an `MCP-Protocol-Version` header is assumed to speak.
    public static let assumedWithoutHeader = "2025-03-26"

    /// Whether this revision rejects JSON-RPC batches (2025-06-18 removed them).
    static func allowsBatches(_ version: String) -> Bool { version == "2025-03-26" }
    /// Whether results may carry `structuredContent` and tools an `outputSchema`.
    static func hasStructuredContent(_ version: String) -> Bool { version != "2025-03-26" }
}

/// `_meta` keys of the 2026-07-28 revision.
enum MetaKey {
    static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
    static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
    static let clientInfo = "io.modelcontextprotocol/clientInfo"
    static let logLevel = "io.modelcontextprotocol/logLevel"
    static let serverInfo = "io.modelcontextprotocol/serverInfo"
    static let progressToken = "progressToken"
}

/// MCP logging levels, least to most severe.
public enum LogLevel: Int, Sendable, Comparable {
    case debug, info, notice, warning, error, critical, alert, emergency

    public init?(name: String) {
        switch name {
        case "debug": self = .debug
        case "info": self = .info
        case "notice": self = .notice
        case "warning": self = .warning
        case "error": self = .error
        case "critical": self = .critical
        case "alert": self = .alert
        case "emergency": self = .emergency
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        case .alert: "alert"
        case .emergency: "emergency"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}
