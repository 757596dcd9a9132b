import MCPPluginSDK

/// How object URLs are formed for one bucket: virtual-hosted-style
/// (`https://bucket.s3.eu-west-1.amazonaws.com/key`, AWS's default) or path-style
/// (`http://minio:9000/bucket/key`, what S3-compatible stores and moto expect).
struct S3Addressing: Sendable {
    enum Style: String, Sendable {
        case path, virtual
    }

    /// `scheme://host[:port]` without a trailing slash (no path).
    let endpoint: String
    let bucket: String
    let style: Style

    /// The default endpoint is AWS's regional one; with a custom endpoint the default style is
    /// path (S3-compatible servers rarely have wildcard DNS for bucket names).
    init(bucket: String, region: String, endpoint: String?, style: String?) throws {
        self.bucket = bucket
        if let endpoint {
            let lower = endpoint.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw ToolError("s3.endpoint must be an http:// or https:// URL")
            }
            let afterScheme = endpoint[endpoint.firstRange(of: "://")!.upperBound...]
            guard !afterScheme.isEmpty else { throw ToolError("s3.endpoint has no host") }
            guard !afterScheme.contains("@") else { throw ToolError("s3.endpoint must not carry credentials") }
            guard !afterScheme.contains("?"), !afterScheme.contains("#") else { throw ToolError("s3.endpoint must not have a query or fragment") }
            var trimmed = endpoint
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            guard !trimmed[trimmed.firstRange(of: "://")!.upperBound...].contains("/") else {
                throw ToolError("s3.endpoint must be scheme://host[:port] without a path")
            }
            self.endpoint = trimmed
        } else {
            self.endpoint = "https://s3.\(region).amazonaws.com"
        }
        switch style {
        case nil: self.style = endpoint == nil ? .virtual : .path
        case "path": self.style = .path
        case "virtual":
            // A bucket name with dots breaks TLS for virtual hosts (the wildcard certificate
            // covers one label): AWS itself tells users to use path-style for those.
            if bucket.contains("."), self.endpoint.lowercased().hasPrefix("https://") {
                throw ToolError("s3.addressing 'virtual' cannot be used over https with a bucket name containing '.'; use 'path'")
            }
            self.style = .virtual
        default: throw ToolError("s3.addressing must be 'path' or 'virtual'")
        }
    }

    /// The URL of the bucket itself (for ListObjectsV2), with `query` already encoded.
    func bucketURL(query: String) -> String {
        let base = style == .path ? "\(endpoint)/\(bucket)/" : "\(virtualHostEndpoint)/"
        return query.isEmpty ? base : base + "?" + query
    }

    /// The URL of one object: each key segment percent-encoded once (RFC 3986 unreserved kept),
    /// `/` kept as separator — the form SigV4 for S3 signs unchanged.
    func objectURL(key: String) -> String {
        let path = Self.encodeKey(key)
        return style == .path ? "\(endpoint)/\(bucket)/\(path)" : "\(virtualHostEndpoint)/\(path)"
    }

    static func encodeKey(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { SigV4Signer.uriEncode(String($0)) }.joined(separator: "/")
    }

    /// `scheme://bucket.host[:port]`.
    private var virtualHostEndpoint: String {
        let separator = endpoint.firstRange(of: "://")!
        return endpoint[..<separator.upperBound] + bucket + "." + endpoint[separator.upperBound...]
    }

    /// A query string from pairs, names and values percent-encoded.
    static func query(_ pairs: [(String, String)]) -> String {
        pairs.map { SigV4Signer.uriEncode($0.0) + "=" + SigV4Signer.uriEncode($0.1) }.joined(separator: "&")
    }
}
