#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// AWS Signature Version 4 (header signing, `AWS4-HMAC-SHA256`), for plugins that call AWS APIs
// through the host's HTTP client (Amazon Managed Prometheus, S3, ...).
//
// Why SHA-256 and HMAC are written out here instead of taken from swift-crypto: on Linux
// swift-crypto's `Crypto` is BoringSSL, and this SDK is one target that every plugin `.so` links
// statically (each plugin embeds its own copy, RTLD_LOCAL). Depending on swift-crypto would put a
// BoringSSL copy (several MB, plus its build) into every plugin, including ones that never sign a
// request, and make third-party plugin repositories resolve and build it. SigV4 needs exactly two
// primitives, SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), about a hundred lines below.
// They are checked against the FIPS/RFC 4231 vectors and AWS's published SigV4 test suite
// (Tests/MCPHostTests/SigV4Tests.swift). Nothing here is secret-dependent in timing except
// what HMAC inherently is; signature *verification* is not offered (plugins only sign).

/// AWS credentials. `description` never shows the secret or the session token.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN` from the
    /// process environment; nil when the key id or the secret is missing or empty.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }

    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }
}

/// Signs HTTP requests with AWS Signature Version 4 for one region and service.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Every intermediate of one signature (the test vectors check each).
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        /// Lower-case hex HMAC.
        public var signature: String
        /// The `Authorization` header value.
        public var authorization: String
        /// `host;x-amz-date;...`
        public var signedHeaders: String
        /// Headers to send besides the request's own: `host` and `x-amz-date` when the request
        /// had none, `x-amz-security-token` with a session token, and `authorization`.
        public var headersToAdd: [(String, String)]
    }

    public struct InvalidURL: Error, CustomStringConvertible {
        public var description: String
    }

    /// Computes the signature of a request.
    ///   - url: absolute `http(s)://host[:port]/path?query`; the path and query as they go on the
    ///     wire (percent-encoded). The query is canonicalized (decoded, re-encoded, sorted).
    ///   - headers: the headers that will be sent; all of them are signed. `host` and
    ///     `x-amz-date` are added (and signed) when absent.
    ///   - unixTime: signing time, seconds since the epoch.
    public func signature(method: String, url: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
                          unixTime: Int64) throws -> Signature {
        let parts = try URLParts(url)
        var headers = headers
        var added: [(String, String)] = []
        if headers["host"] == nil {
            headers.add(name: "host", value: parts.hostHeader)
            added.append(("host", parts.hostHeader))
        }
        let amzDate: String
        if let given = headers["x-amz-date"] {
            amzDate = given
        } else {
            amzDate = Self.amzDate(unixTime: unixTime)
            headers.add(name: "x-amz-date", value: amzDate)
            added.append(("x-amz-date", amzDate))
        }
        let payloadHash = SHA256Digest.hex(SHA256Digest.hash(body))
        // S3 wants the payload hash as a header too (and refuses requests without it).
        if isS3, headers["x-amz-content-sha256"] == nil {
            headers.add(name: "x-amz-content-sha256", value: payloadHash)
            added.append(("x-amz-content-sha256", payloadHash))
        }
        if let token = credentials.sessionToken, headers["x-amz-security-token"] == nil {
            headers.add(name: "x-amz-security-token", value: token)
            added.append(("x-amz-security-token", token))
        }

        // Canonical headers: lower-case names, sorted; values trimmed with inner runs of spaces
        // collapsed; repeated names joined with "," in the order sent.
        var byName: [String: [String]] = [:]
        var order: [String] = []
        for field in headers {
            let name = field.name.lowercased()
            if byName[name] == nil { order.append(name) }
            byName[name, default: []].append(Self.canonicalHeaderValue(field.value))
        }
        let names = order.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var canonicalHeaders = ""
        for name in names { canonicalHeaders += name + ":" + byName[name]!.joined(separator: ",") + "\n" }
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            method.uppercased(), isS3 ? Self.s3CanonicalURI(parts.path) : Self.canonicalURI(parts.path), Self.canonicalQuery(parts.query), canonicalHeaders,
            signedHeaders, payloadHash,
        ].joined(separator: "\n")

        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, SHA256Digest.hex(SHA256Digest.hash(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        var key = HMACSHA256.mac(key: Array(("AWS4" + credentials.secretAccessKey).utf8), message: Array(day.utf8))
        key = HMACSHA256.mac(key: key, message: Array(region.utf8))
        key = HMACSHA256.mac(key: key, message: Array(service.utf8))
        key = HMACSHA256.mac(key: key, message: Array("aws4_request".utf8))
        let signature = SHA256Digest.hex(HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        added.append(("authorization", authorization))
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            authorization: authorization, signedHeaders: signedHeaders, headersToAdd: added)
    }

    /// Returns `request` with the signature headers added (signed at `unixTime`, seconds).
    public func sign(_ request: HTTPRequest, unixTime: Int64) throws -> HTTPRequest {
        let result = try signature(method: request.method, url: request.url, headers: request.headers, body: Array(request.body), unixTime: unixTime)
        var signed = request
        for (name, value) in result.headersToAdd { signed.headers.add(name: name, value: value) }
        return signed
    }

    /// `YYYYMMDDTHHMMSSZ` (UTC).
    public static func amzDate(unixTime: Int64) -> String {
        let (days, seconds) = CivilDate.split(unixSeconds: unixTime)
        let (y, m, d) = CivilDate.date(days: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)\(two(m))\(two(d))T\(two(seconds / 3600))\(two(seconds % 3600 / 60))\(two(seconds % 60))Z"
    }

    // MARK: canonical forms

    static func canonicalHeaderValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in value.drop(while: { $0 == " " || $0 == "\t" }) {
            if ch == " " || ch == "\t" {
                pendingSpace = true
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return out  // trailing blanks stay pending and are dropped
    }

    /// S3 signs a request differently from every other service: the path is an object key, so it is
    /// neither normalized (`.`, `..` and `//` are part of the key) nor encoded twice, and the
    /// payload hash travels in `x-amz-content-sha256`.
    var isS3: Bool { service == "s3" }

    /// S3's canonical URI: each segment percent-encoded once, nothing resolved.
    static func s3CanonicalURI(_ rawPath: String) -> String {
        if rawPath.isEmpty { return "/" }
        return rawPath.split(separator: "/", omittingEmptySubsequences: false)
            .map { uriEncode(percentDecode(String($0))) }.joined(separator: "/")
    }

    /// The path with `.`/`..` segments resolved and each segment percent-encoded once
    /// (unreserved characters only), as the suite's vectors for non-S3 services expect.
    static func canonicalURI(_ rawPath: String) -> String {
        if rawPath.isEmpty { return "/" }
        let segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var output: [String] = []
        for (index, segment) in segments.enumerated() where index > 0 || !segment.isEmpty {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(uriEncode(percentDecode(segment)))
            }
        }
        var path = "/" + output.joined(separator: "/")
        let last = segments.last ?? ""
        if (last == "." || last == "..") && path != "/" { path += "/" }
        return path
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = uriEncode(percentDecode(String(kv[0])))
            let value = kv.count > 1 ? uriEncode(percentDecode(String(kv[1]))) : ""
            pairs.append((key, value))
        }
        pairs.sort { a, b in
            a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
                : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
        }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 wants it: everything but `A-Z a-z 0-9 - _ . ~` as `%XX` (upper hex).
    public static func uriEncode(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }

    static func percentDecode(_ string: String) -> String {
        guard string.utf8.contains(UInt8(ascii: "%")) else { return string }
        let bytes = Array(string.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func hexValue(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    struct URLParts {
        var hostHeader: String
        var path: String
        var query: String

        init(_ url: String) throws {
            guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else {
                throw InvalidURL(description: "not an absolute URL: \(url)")
            }
            let scheme = url[..<colon].lowercased()
            let rest = url[url.index(colon, offsetBy: 3)...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            var authority = String(rest[..<authorityEnd])
            if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
            guard !authority.isEmpty else { throw InvalidURL(description: "URL without a host: \(url)") }
            // The host header as HTTP clients send it: no default port.
            authority = authority.lowercased()
            if scheme == "https", authority.hasSuffix(":443") { authority.removeLast(4) }
            if scheme == "http", authority.hasSuffix(":80") { authority.removeLast(3) }
            hostHeader = authority
            var target = rest[authorityEnd...]
            if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
            if let question = target.firstIndex(of: "?") {
                path = String(target[..<question])
                query = String(target[target.index(after: question)...])
            } else {
                path = String(target)
                query = ""
            }
        }
    }
}

// MARK: - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104)

/// SHA-256 of a byte string.
public enum SHA256Digest {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 64)
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                hh = g
                g = f
                f = e
                e = d &+ t1
                d = c
                c = b
                b = a
                a = t1 &+ t2
            }
            h[0] = h[0] &+ a
            h[1] = h[1] &+ b
            h[2] = h[2] &+ c
            h[3] = h[3] &+ d
            h[4] = h[4] &+ e
            h[5] = h[5] &+ f
            h[6] = h[6] &+ g
            h[7] = h[7] &+ hh
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in h { out += [UInt8(word >> 24), UInt8(word >> 16 & 0xff), UInt8(word >> 8 & 0xff), UInt8(word & 0xff)] }
        return out
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// HMAC-SHA256.
public enum HMACSHA256 {
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var key = key.count > 64 ? SHA256Digest.hash(key) : key
        key += [UInt8](repeating: 0, count: 64 - key.count)
        let inner = SHA256Digest.hash(key.map { $0 ^ 0x36 } + message)
        return SHA256Digest.hash(key.map { $0 ^ 0x5c } + inner)
    }
}
