/// A minimal XML reader for the two documents S3 sends this plugin: `ListBucketResult`
/// (ListObjectsV2) and `Error`.
///
/// Why not Foundation's XMLParser: it lives in FoundationXML (libxml2), which is not part of
/// FoundationEssentials and would add a system library to a plugin that otherwise needs none.
/// These documents are flat, attribute-free element trees, so a small reader is enough: elements,
/// text, the five predefined entities and numeric character references, CDATA, and skipping of
/// the declaration, comments and processing instructions. It does not validate, and it does not
/// need to: an unexpected shape surfaces as a missing field.
struct S3XMLElement: Sendable {
    var name: String
    var text = ""
    var children: [S3XMLElement] = []

    /// The first child named `name`.
    func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }
    /// Every child named `name`.
    func children(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    subscript(_ name: String) -> String? { child(name)?.text }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses a document and returns its root element.
    static func parse(_ bytes: [UInt8]) throws -> S3XMLElement {
        var reader = Reader(bytes: bytes)
        return try reader.document()
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() throws -> S3XMLElement {
            // Skip a BOM, the declaration, comments, whitespace until the root element.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
            while true {
                skipWhitespace()
                guard i < bytes.count else { throw Malformed(description: "no root element") }
                guard bytes[i] == UInt8(ascii: "<") else { throw Malformed(description: "text before the root element") }
                if try skipMarkup() { continue }
                return try element()
            }
        }

        /// Skips `<?…?>`, `<!--…-->` and `<!DOCTYPE…>` at `i`; false if `i` starts an element.
        mutating func skipMarkup() throws -> Bool {
            if starts("<?") { try skip(past: "?>"); return true }
            if starts("<!--") { try skip(past: "-->"); return true }
            if starts("<!") && !starts("<![CDATA[") { try skip(past: ">"); return true }
            return false
        }

        mutating func element() throws -> S3XMLElement {
            i += 1  // '<'
            let name = readName()
            guard !name.isEmpty else { throw Malformed(description: "element without a name at byte \(i)") }
            // Attributes are skipped (S3's documents carry only xmlns); quotes may hide a '>'.
            var quote: UInt8? = nil
            while i < bytes.count {
                let b = bytes[i]
                if let q = quote {
                    if b == q { quote = nil }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                } else if b == UInt8(ascii: ">") {
                    break
                }
                i += 1
            }
            guard i < bytes.count else { throw Malformed(description: "unterminated start tag <\(name)>") }
            let selfClosing = bytes[i - 1] == UInt8(ascii: "/")
            i += 1
            var node = S3XMLElement(name: name)
            if selfClosing { return node }
            var text: [UInt8] = []
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "<") {
                    if starts("</") {
                        i += 2
                        let closing = readName()
                        guard closing == name else { throw Malformed(description: "</\(closing)> closes <\(name)>") }
                        try skip(past: ">")
                        node.text = String(decoding: text, as: UTF8.self)
                        return node
                    }
                    if starts("<![CDATA[") {
                        i += 9
                        let start = i
                        try skip(past: "]]>")
                        text += bytes[start..<(i - 3)]
                        continue
                    }
                    if try skipMarkup() { continue }
                    node.children.append(try element())
                } else if bytes[i] == UInt8(ascii: "&") {
                    text += try entity()
                } else {
                    text.append(bytes[i])
                    i += 1
                }
            }
            throw Malformed(description: "<\(name)> is not closed")
        }

        mutating func entity() throws -> [UInt8] {
            guard let end = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw Malformed(description: "bad entity at byte \(i)")
            }
            let name = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
            i = end + 1
            switch name {
            case "amp": return [UInt8(ascii: "&")]
            case "lt": return [UInt8(ascii: "<")]
            case "gt": return [UInt8(ascii: ">")]
            case "quot": return [UInt8(ascii: "\"")]
            case "apos": return [UInt8(ascii: "'")]
            default:
                let value: UInt32?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    value = UInt32(name.dropFirst(2), radix: 16)
                } else if name.hasPrefix("#") {
                    value = UInt32(name.dropFirst(1))
                } else {
                    value = nil
                }
                guard let value, let scalar = Unicode.Scalar(value) else { throw Malformed(description: "unknown entity &\(name);") }
                return Array(String(Character(scalar)).utf8)
            }
        }

        mutating func readName() -> String {
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: ">") || b == UInt8(ascii: "/") || b == UInt8(ascii: " ") || b == UInt8(ascii: "\t")
                    || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
                {
                    break
                }
                i += 1
            }
            let full = String(decoding: bytes[start..<i], as: UTF8.self)
            // Drop a namespace prefix (`s3:Key` → `Key`).
            return full.split(separator: ":").last.map(String.init) ?? full
        }

        func starts(_ literal: String) -> Bool {
            bytes[i...].starts(with: literal.utf8)
        }

        mutating func skip(past literal: String) throws {
            let pattern = Array(literal.utf8)
            while i + pattern.count <= bytes.count {
                if bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
                    i += pattern.count
                    return
                }
                i += 1
            }
            throw Malformed(description: "missing '\(literal)'")
        }

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }
    }
}
