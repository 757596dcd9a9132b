import MCPHostCore
import NIOCore
import NIOHTTP1

/// HTTP/1.1 response framing, written straight into one `ByteBuffer` per response.
///
/// Why not NIO's `HTTPResponseEncoder` (with its `HTTPServerPipelineHandler` and
/// `HTTPServerProtocolErrorHandler`): a buffered answer went through them as three parts (head,
/// body, end), each hop unwrapping and re-wrapping a generic `NIOAny` with a dynamic cast; callgrind
/// put that outbound path and the two extra inbound hops at ~30% of the user-space instructions of
/// a stateless tools/call. The front now does their three jobs itself (framing here, pipelining and
/// the 400 for unparsable requests in `HTTPFrontHandler`); NIO's `HTTPRequestDecoder` (llhttp)
/// still parses every request.
enum HTTPWire {
    /// How the body of a response is delimited.
    enum Framing: Equatable {
        /// `content-length: n`.
        case length(Int)
        /// `transfer-encoding: chunked` (a streamed body on HTTP/1.1).
        case chunked
        /// No length: the body runs until the connection closes (a streamed body on HTTP/1.0).
        case untilClose
        /// No body and no length field: 1xx, 204 and 304 answers (RFC 9110 §8.6, §15.3.5, §15.4.5).
        case none
    }

    /// Statuses whose responses carry no content (RFC 9110 §6.4.1).
    static func forbidsBody(_ status: Int) -> Bool { status < 200 || status == 204 || status == 304 }

    /// Appends the status line and header section. `headers` are the handler's, minus any framing
    /// field (the front owns framing); on the first invalid field nothing is appended and its name
    /// is returned.
    static func writeHead(
        version: HTTPVersion, status: Int, headers: HostHeaders, framing: Framing, keepAlive: Bool,
        into buffer: inout ByteBuffer
    ) -> String? {
        let start = buffer.writerIndex
        if version == .http1_0 {
            buffer.writeStaticString("HTTP/1.0 ")
        } else {
            buffer.writeStaticString("HTTP/1.1 ")
        }
        if status == 200 {
            buffer.writeStaticString("200 OK\r\n")
        } else {
            buffer.writeString(String(status))
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
            buffer.writeStaticString("\r\n")
        }
        for (name, value) in headers {
            // Framing is the front's: a handler's content-length or transfer-encoding never goes out.
            if isFramingHeader(name) { continue }
            guard isValidField(name: name, value: value) else {
                buffer.moveWriterIndex(to: start)
                return name
            }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        switch framing {
        case .length(let count):
            buffer.writeStaticString("content-length: ")
            buffer.writeString(String(count))
            buffer.writeStaticString("\r\n")
        case .chunked: buffer.writeStaticString("transfer-encoding: chunked\r\n")
        case .untilClose, .none: break
        }
        if !keepAlive {
            buffer.writeStaticString("connection: close\r\n")
        } else if version == .http1_0 {
            // HTTP/1.0 closes by default; say that this connection stays open.
            buffer.writeStaticString("connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
        return nil
    }

    /// Appends one chunk of a chunked body (RFC 9112 §7.1); empty chunks are skipped, since a
    /// zero-size chunk ends the body.
    static func writeChunk(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        guard !bytes.isEmpty else { return }
        buffer.writeString(String(bytes.count, radix: 16))
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// The last chunk and an empty trailer section.
    static let lastChunk: StaticString = "0\r\n\r\n"

    /// The answer to a request that cannot be parsed; the connection closes after it.
    static let badRequest: StaticString = "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"

    /// The interim answer to `expect: 100-continue` (RFC 9110 §10.1.1).
    static let continueResponse: StaticString = "HTTP/1.1 100 Continue\r\n\r\n"

    /// RFC 9110 §5.1/§5.5, as NIO's validator applies it: a name is a non-empty token; a value holds
    /// no control character but HTAB (CR, LF and NUL are the dangerous ones; obs-text passes).
    static func isValidField(name: String, value: String) -> Bool {
        let nameOK = name.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.isEmpty && bytes.allSatisfy { Self.tokenBytes[Int($0)] }
        } ?? (!name.isEmpty && name.utf8.allSatisfy { Self.tokenBytes[Int($0)] })
        guard nameOK else { return false }
        let isControl = { (byte: UInt8) in (byte < 0x20 && byte != 0x09) || byte == 0x7F }
        return !(value.utf8.withContiguousStorageIfAvailable { $0.contains(where: isControl) } ?? value.utf8.contains(where: isControl))
    }

    static func isFramingHeader(_ name: String) -> Bool {
        switch name.utf8.count {
        case 14: return HostHeaders.equalsIgnoringASCIICase(name, "content-length")
        case 17: return HostHeaders.equalsIgnoringASCIICase(name, "transfer-encoding")
        default: return false
        }
    }

    /// tchar of RFC 9110 §5.6.2, indexed by byte.
    private static let tokenBytes: [Bool] = (0..<256).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
        }
    }
}
