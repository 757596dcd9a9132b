#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys and common values of MCP's JSON-RPC envelopes, created once. A parsed string that
/// equals one of them reuses it instead of becoming a new `String`, which validates the bytes again
/// and, past 15 bytes (the `io.modelcontextprotocol/…` keys of every 2026-07-28 request), allocates
/// (scripts/callgrind-request-cost: 158.3k -> 156.7k instructions per tools/call).
enum InternedStrings {
    private struct Entry {
        let bytes: [UInt8]
        let string: String
    }

    private static let words = [
        // JSON-RPC
        "jsonrpc", "2.0", "id", "method", "params", "result", "error", "code", "message", "data",
        // MCP requests and results
        "name", "arguments", "_meta", "progressToken", "cursor", "content", "type", "text", "structuredContent",
        "isError", "resultType", "complete", "title", "version", "tools/call", "tools/list", "ping", "initialize",
        "protocolVersion", "capabilities", "clientInfo", "notifications/initialized", "notifications/cancelled",
        "requestId", "reason", "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26",
        "io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientCapabilities",
        "io.modelcontextprotocol/clientInfo", "io.modelcontextprotocol/serverInfo",
    ]

    /// Entries by byte length.
    private static let byLength: [[Entry]] = {
        var table = [[Entry]](repeating: [], count: words.map(\.utf8.count).max()! + 1)
        for word in words { table[word.utf8.count].append(Entry(bytes: Array(word.utf8), string: word)) }
        return table
    }()

    /// The interned string with exactly these bytes, if there is one.
    @inline(__always)
    static func lookup(_ bytes: UnsafeRawBufferPointer) -> String? {
        let table = byLength
        guard bytes.count < table.count, let base = bytes.baseAddress else { return nil }
        for entry in table[bytes.count] {
            let same = entry.bytes.withUnsafeBytes { memcmp($0.baseAddress!, base, bytes.count) == 0 }
            if same { return entry.string }
        }
        return nil
    }
}
