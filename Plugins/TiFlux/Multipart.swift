#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `multipart/form-data` (RFC 7578) with text fields only: TiFlux takes POST /tickets and
/// POST /tickets/{n}/answers in this form, not as JSON.
struct MultipartForm {
    private(set) var fields: [(String, String)] = []
    let boundary: String

    init() {
        // Random, so a field value cannot contain it by accident.
        boundary = "mcphost-tiflux-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    mutating func add(_ name: String, _ value: String?) {
        if let value { fields.append((name, value)) }
    }

    mutating func add(_ name: String, _ value: Int?) {
        if let value { fields.append((name, String(value))) }
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var body: Data {
        var out = ""
        for (name, value) in fields {
            // Field names are ours (fixed ASCII); values go in the part body, where only the
            // boundary is special.
            out += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        out += "--\(boundary)--\r\n"
        return Data(out.utf8)
    }
}
