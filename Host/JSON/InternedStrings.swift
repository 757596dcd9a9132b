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

    /// The words laid out once in memory that is never freed, so a lookup reads plain pointers:
    /// through `[[Entry]]` each lookup retained the table, the row and every entry it compared
    /// (~25 retain/release pairs of a tools/call).
    private struct Table: @unchecked Sendable {
        // @unchecked: written once in `init`, read-only afterwards.
        /// All words' bytes, back to back.
        let bytes: UnsafeMutablePointer<UInt8>
        /// Word `i` starts at `offsets[i]`; words are sorted by length.
        let offsets: UnsafeMutablePointer<Int>
        let strings: UnsafeMutablePointer<String>
        /// Words of length `n` are `firstOfLength[n]..<firstOfLength[n + 1]`.
        let firstOfLength: UnsafeMutablePointer<Int>
        let maxLength: Int

        init(_ words: [String]) {
            let sorted = words.sorted { $0.utf8.count < $1.utf8.count }
            maxLength = sorted.last!.utf8.count
            bytes = .allocate(capacity: sorted.reduce(0) { $0 + $1.utf8.count })
            offsets = .allocate(capacity: sorted.count)
            strings = .allocate(capacity: sorted.count)
            firstOfLength = .allocate(capacity: maxLength + 2)
            var offset = 0
            var length = 0
            firstOfLength[0] = 0
            for (index, word) in sorted.enumerated() {
                while length < word.utf8.count {
                    length += 1
                    firstOfLength[length] = index
                }
                offsets[index] = offset
                (strings + index).initialize(to: word)
                for byte in word.utf8 {
                    bytes[offset] = byte
                    offset += 1
                }
            }
            firstOfLength[maxLength + 1] = sorted.count
        }
    }

    private static let table = Table(words)

    /// The interned string with exactly these bytes, if there is one.
    @inline(__always)
    static func lookup(_ bytes: UnsafeRawBufferPointer) -> String? {
        let table = Self.table
        let count = bytes.count
        guard count > 0, count <= table.maxLength, let base = bytes.baseAddress else { return nil }
        let first = base.load(as: UInt8.self)
        for index in table.firstOfLength[count]..<table.firstOfLength[count + 1] {
            let word = table.bytes + table.offsets[index]
            if word.pointee == first && memcmp(word, base, count) == 0 { return table.strings[index] }
        }
        return nil
    }
}
