import ArgumentParser
import Crypto

/// `mcp-host keys hash`: the SHA-256 of an API key, for `tenants[].api_key_sha256`. The key is
/// read from standard input (never an argument: arguments end up in shell history and `ps`).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Work with tenant API keys.", subcommands: [Hash.self])

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read one API key on standard input and print its SHA-256 (hex) for tenants[].api_key_sha256.")

        func run() throws {
            var input = ""
            while let line = readLine(strippingNewline: false) { input += line }
            print(try Self.digest(of: input))
        }

        /// The hex digest of the key in `input` (one line; its line ending is not part of the key).
        static func digest(of input: String) throws -> String {
            // By scalars: "\r\n" is a single Character, so Character-wise suffix checks miss it.
            var key = Substring(input).unicodeScalars
            if key.last == "\n" { key = key.dropLast() }
            if key.last == "\r" { key = key.dropLast() }
            guard !key.isEmpty else { throw ValidationError("no key on standard input") }
            guard key.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw ValidationError(
                    "the key must be one line of visible ASCII characters without spaces (an HTTP header value that arrives unchanged)")
            }
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            for byte in SHA256.hash(data: Array(String(key).utf8)) {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
