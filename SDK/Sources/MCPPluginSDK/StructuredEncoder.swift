#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An `Encoder` for `structuredContent` that writes exactly the bytes `sharedEncoder` (sorted
/// keys, unescaped slashes) writes, for the common shapes: objects with ASCII keys, arrays,
/// strings, bools, integers, and doubles whose shortest form has no exponent. Anything else
/// returns nil and the caller encodes with `JSONEncoder`.
///
/// Why: Foundation's `JSONEncoder` took ~15k instructions (callgrind) to encode echo's
/// `{"length":14,"message":"…"}`, of a tools/call's ~218k, most of it fixed per-`encode` setup.
/// This encoder does the same in ~9k.
///
/// What was checked against `JSONEncoder` on this toolchain (and is kept so by
/// `StructuredEncoderTests`): sorted keys are in byte order (`"10" < "9" < "A" < "_" < "a"`);
/// strings escape `"` `\` and the controls (`\b \t \n \f \r`, others `\u00xx`) and nothing else;
/// doubles print as their `description` without a trailing `.0` (`3`, `-0`, `1.5`).
enum StructuredEncoder {
    static func encode<T: Encodable>(_ value: T) -> [UInt8]? {
        let state = EncodeState()
        let root = FastEncoder(state: state, parent: nil, key: nil)
        do {
            try root.encodeValue(value)
        } catch {
            return nil
        }
        guard !state.unsupported, let result = root.result else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        guard result.write(to: &out) else { return nil }
        return out
    }
}

/// An encoded value. Numbers, bools and null are kept as their final text.
enum EncodedJSON {
    case literal(String)
    case string(String)
    case array(EncodedArray)
    case object(EncodedObject)

    /// Appends the JSON text; false where the bytes might differ from JSONEncoder's (non-ASCII
    /// or duplicate keys, whose order or winner is JSONEncoder's own business).
    func write(to out: inout [UInt8]) -> Bool {
        switch self {
        case .literal(let text):
            out.append(contentsOf: text.utf8)
        case .string(let text):
            JSONText.appendString(text, to: &out)
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (index, element) in array.elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                guard element.write(to: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            for member in object.members where !member.key.utf8.allSatisfy({ $0 < 0x80 }) { return false }
            // For ASCII, String's `<` is byte order, which is JSONEncoder's `.sortedKeys` order.
            // Sorted in place: this write is the object's last use.
            object.members.sort { $0.key < $1.key }
            let members = object.members
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 {
                    guard member.key != members[index - 1].key else { return false }
                    out.append(UInt8(ascii: ","))
                }
                JSONText.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                guard member.value.write(to: &out) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }
}

final class EncodedArray {
    var elements: [EncodedJSON] = []
}

final class EncodedObject {
    var members: [(key: String, value: EncodedJSON)]

    init() {
        members = []
        members.reserveCapacity(4)  // the usual handful of fields without regrowing
    }
}

/// Shared by all encoders of one `encode`: set when any of them met something it cannot write
/// exactly as `JSONEncoder` would.
final class EncodeState {
    var unsupported = false
}

/// The encoder of one value; its coding path is built only when asked for.
final class FastEncoder: Encoder {
    let state: EncodeState
    let parent: FastEncoder?
    let key: (any CodingKey)?
    var result: EncodedJSON?
    /// The type whose `encode(to:)` runs on this encoder. A primitive this file does not know
    /// (`Int128`, a future one) encodes itself through a single-value container as its own type,
    /// which would come straight back here: that is left to JSONEncoder.
    var encodingType: Any.Type?

    init(state: EncodeState, parent: FastEncoder?, key: (any CodingKey)?) {
        self.state = state
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var encoder: FastEncoder? = self
        while let current = encoder, let key = current.key {
            path.append(key)
            encoder = current.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func unsupported() -> UnsupportedByFastPath {
        state.unsupported = true
        return UnsupportedByFastPath()
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch result {
        case nil:
            let object = EncodedObject()
            result = .object(object)
            return KeyedEncodingContainer(FastKeyedEncodingContainer(encoder: self, object: object))
        case .object(let object):  // asked again: JSONEncoder adds to the same object
            return KeyedEncodingContainer(FastKeyedEncodingContainer(encoder: self, object: object))
        default:
            state.unsupported = true
            return KeyedEncodingContainer(FastKeyedEncodingContainer(encoder: self, object: EncodedObject()))
        }
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch result {
        case nil:
            let array = EncodedArray()
            result = .array(array)
            return FastUnkeyedEncodingContainer(encoder: self, array: array)
        case .array(let array):
            return FastUnkeyedEncodingContainer(encoder: self, array: array)
        default:
            state.unsupported = true
            return FastUnkeyedEncodingContainer(encoder: self, array: EncodedArray())
        }
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { FastSingleValueEncodingContainer(encoder: self) }

    /// `value` as this encoder's single result.
    func encodeValue<T: Encodable>(_ value: T) throws {
        guard result == nil else { throw unsupported() }
        result = try encoded(value, key: nil)
    }

    /// `value` encoded on its own: primitives directly, types `JSONEncoder` treats specially
    /// never, anything else through its `encode(to:)` with a child encoder.
    func encoded<T: Encodable>(_ value: T, key: (any CodingKey)?) throws -> EncodedJSON {
        if T.self == String.self { return .string(value as! String) }
        if T.self == Bool.self { return .literal(value as! Bool ? "true" : "false") }
        if T.self == Int.self { return .literal(String(value as! Int)) }
        if T.self == Double.self { return try double(value as! Double) }
        if T.self == Int64.self { return .literal(String(value as! Int64)) }
        if T.self == UInt64.self { return .literal(String(value as! UInt64)) }
        if T.self == Int32.self { return .literal(String(value as! Int32)) }
        if T.self == UInt32.self { return .literal(String(value as! UInt32)) }
        if T.self == UInt.self { return .literal(String(value as! UInt)) }
        if T.self == Int16.self { return .literal(String(value as! Int16)) }
        if T.self == UInt16.self { return .literal(String(value as! UInt16)) }
        if T.self == Int8.self { return .literal(String(value as! Int8)) }
        if T.self == UInt8.self { return .literal(String(value as! UInt8)) }
        // JSONEncoder has its own rules for these (base64, dates, URL strings, decimal numbers,
        // Float's own formatting).
        if T.self == Data.self || T.self == Date.self || T.self == URL.self || T.self == Decimal.self || T.self == Float.self {
            throw unsupported()
        }
        let child = FastEncoder(state: state, parent: self, key: key)
        child.encodingType = T.self
        try value.encode(to: child)
        // A value that encoded nothing: JSONEncoder writes `{}` nested and throws at the top.
        guard let result = child.result else { throw unsupported() }
        return result
    }

    /// JSONEncoder writes `description` minus a trailing `.0`; exponents (`1e+16`), which it
    /// might format otherwise, and non-finite values (which it refuses) are left to it.
    func double(_ value: Double) throws -> EncodedJSON {
        guard value.isFinite else { throw unsupported() }
        var text = value.description
        guard !text.utf8.contains(UInt8(ascii: "e")) else { throw unsupported() }
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .literal(text)
    }
}

struct FastKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: FastEncoder
    let object: EncodedObject

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws {
        object.members.append((key.stringValue, .literal("null")))
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.members.append((key.stringValue, try encoder.encoded(value, key: key)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = FastEncoder(state: encoder.state, parent: encoder, key: key)
        let container = child.container(keyedBy: NestedKey.self)
        object.members.append((key.stringValue, child.result!))
        return container
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = FastEncoder(state: encoder.state, parent: encoder, key: key)
        let container = child.unkeyedContainer()
        object.members.append((key.stringValue, child.result!))
        return container
    }

    mutating func superEncoder() -> any Encoder {
        encoder.state.unsupported = true
        return FastEncoder(state: encoder.state, parent: encoder, key: nil)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.state.unsupported = true
        return FastEncoder(state: encoder.state, parent: encoder, key: key)
    }
}

struct FastUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: FastEncoder
    let array: EncodedArray

    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { array.elements.count }

    mutating func encodeNil() throws { array.elements.append(.literal("null")) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try encoder.encoded(value, key: IndexKey(array.elements.count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = FastEncoder(state: encoder.state, parent: encoder, key: IndexKey(array.elements.count))
        let container = child.container(keyedBy: NestedKey.self)
        array.elements.append(child.result!)
        return container
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = FastEncoder(state: encoder.state, parent: encoder, key: IndexKey(array.elements.count))
        let container = child.unkeyedContainer()
        array.elements.append(child.result!)
        return container
    }

    mutating func superEncoder() -> any Encoder {
        encoder.state.unsupported = true
        return FastEncoder(state: encoder.state, parent: encoder, key: nil)
    }
}

struct FastSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: FastEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        guard encoder.result == nil else { throw encoder.unsupported() }
        encoder.result = .literal("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        guard T.self != encoder.encodingType else { throw encoder.unsupported() }
        try encoder.encodeValue(value)
    }
}
