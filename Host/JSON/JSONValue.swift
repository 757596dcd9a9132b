// A lean JSON value and codec for the request hot path.
//
// Why hand-written: DESIGN.md measured Foundation's JSONSerialization at ~100 µs and a fresh
// JSONDecoder+JSONEncoder pair at ~45 µs per request on this machine, against a budget of ~40 µs
// for a whole tools/call at the target rate. No listed package offers an allocation-light,
// order-preserving JSON tree over raw bytes. This one parses a request body in a few µs, keeps
// object key order (tools/list output must be deterministic) and never traps on bad input.

#if canImport(Glibc)
import Glibc
#endif

/// A JSON document node. Integers that fit `Int64` stay exact; other numbers are `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// An order-preserving JSON object. Lookups are linear, which beats hashing for the small
/// objects of JSON-RPC envelopes and tool arguments.
public struct JSONObject: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) { self.key = key; self.value = value }
    }

    public private(set) var entries: [Entry]

    public init() { entries = [] }
    public init(_ entries: [Entry]) { self.entries = entries }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        entries = []
        entries.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    /// Reading gives the value of `key`; assigning `nil` removes it, assigning a value replaces
    /// it in place or appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            // By index: `for entry in entries` copied each entry out, retaining its key and value
            // (with sameBytes' copies, ~70 retain/release pairs of a tools/call).
            for index in entries.indices where JSONObject.sameBytes(entries[index].key, key) { return entries[index].value }
            return nil
        }
        set {
            if let index = entries.firstIndex(where: { JSONObject.sameBytes($0.key, key) }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// Code-point equality (not Swift's canonical equivalence), with the O(1) length check first.
    @inlinable
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // The UTF-8 views read native and small strings in place; `var` copies and `withUTF8`
        // retained both strings.
        let same = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
        return (same ?? nil) ?? a.utf8.elementsEqual(b.utf8)
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

extension JSONValue {
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The value as an integer when it is one exactly (`3` or `3.0`).
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// The JSON type name as JSON Schema spells it.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d.rounded() == d ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// Semantic equality as JSON Schema's `const`/`enum`/`uniqueItems` need it: `1` equals `1.0`,
/// object key order does not matter.
extension JSONValue {
    public func jsonEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        // Code-point (byte) equality: Swift's `==` would equate canonically equivalent strings
        // ("é" and "e\u{301}"), which are different values to the plugin that receives them.
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.int, _), (.double, _):
            guard let a = doubleValue, let b = other.doubleValue else { return false }
            if case .int(let x) = self, case .int(let y) = other { return x == y }
            return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.jsonEquals($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { entry in b[entry.key].map { entry.value.jsonEquals($0) } ?? false }
        default: return false
        }
    }
}
