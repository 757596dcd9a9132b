/// Decoders for Parquet's value and level encodings: PLAIN for every physical type and the
/// RLE/bit-packed hybrid (definition/repetition levels, dictionary indices).

/// A decoded leaf value. INT32 and INT64 both land in `int`, FLOAT widens to `double`, INT96 and
/// FIXED_LEN_BYTE_ARRAY stay bytes: the callers (statistics rendering, checkpoint assembly)
/// interpret them with the logical type.
public enum ParquetPrimitive: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
}

/// The RLE/bit-packed hybrid of parquet-format Encodings.md: a sequence of runs, each headed by a
/// ULEB128 varint whose low bit selects a bit-packed run (groups of 8 values, LSB first) or an RLE
/// run (a count and one value in ceil(bitWidth/8) little-endian bytes).
public struct RLEBitPackedDecoder {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let bitWidth: Int

    public init(_ bytes: [UInt8], range: Range<Int>, bitWidth: Int) {
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
        self.bitWidth = bitWidth
    }

    /// Decodes exactly `count` values; data that ends early is an error (a truncated page).
    public mutating func decode(count: Int) throws -> [Int32] {
        guard bitWidth >= 0, bitWidth <= 32 else { throw ParquetError("RLE bit width \(bitWidth) is out of range") }
        guard count >= 0 else { throw ParquetError("negative RLE value count \(count)") }
        var out: [Int32] = []
        out.reserveCapacity(min(count, 1 << 20))
        if bitWidth == 0 {
            // Every value is 0 (e.g. a dictionary with one entry); the runs carry nothing useful.
            return Array(repeating: 0, count: count)
        }
        let mask: UInt64 = bitWidth == 64 ? ~0 : (1 << UInt64(bitWidth)) - 1
        while out.count < count {
            let header = try varint()
            if header & 1 == 0 {
                let run = Int(header >> 1)
                let width = (bitWidth + 7) / 8
                guard end - position >= width else { throw ParquetError("RLE run value truncated") }
                var value: UInt64 = 0
                for i in 0..<width { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
                position += width
                guard run > 0 else { throw ParquetError("RLE run of length 0") }
                let take = min(run, count - out.count)
                out.append(contentsOf: repeatElement(Int32(truncatingIfNeeded: value & mask), count: take))
            } else {
                let groups = Int(header >> 1)
                guard groups > 0 else { throw ParquetError("bit-packed run of 0 groups") }
                let byteCount = groups * bitWidth
                // The last run of a page may be cut short; decode what is there.
                let available = min(byteCount, end - position)
                let values = groups * 8
                var bitPosition = 0
                let base = position
                for _ in 0..<values {
                    guard out.count < count else { break }
                    guard (bitPosition + bitWidth + 7) / 8 <= available else {
                        throw ParquetError("bit-packed run truncated")
                    }
                    var value: UInt64 = 0
                    var gathered = 0
                    var bit = bitPosition
                    while gathered < bitWidth {
                        let byte = UInt64(bytes[base + bit / 8])
                        let offset = bit % 8
                        let take = min(8 - offset, bitWidth - gathered)
                        value |= ((byte >> UInt64(offset)) & ((1 << UInt64(take)) - 1)) << UInt64(gathered)
                        gathered += take
                        bit += take
                    }
                    out.append(Int32(truncatingIfNeeded: value & mask))
                    bitPosition += bitWidth
                }
                position = base + available
            }
        }
        return out
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ParquetError("RLE data truncated") }
            guard shift < 64 else { throw ParquetError("RLE run header too long") }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }
}

/// Bits needed to store `maxValue` (the width of a level stream whose largest level is `maxValue`).
public func bitWidth(of maxValue: Int) -> Int {
    maxValue <= 0 ? 0 : Int.bitWidth - maxValue.leadingZeroBitCount
}

@inline(__always)
func littleEndian(_ bytes: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
    return v
}

/// PLAIN-encoded values of one physical type.
public func decodePlain(_ bytes: [UInt8], range: Range<Int>, count: Int, type: ParquetPhysicalType, typeLength: Int?)
    throws -> [ParquetPrimitive]
{
    guard count >= 0 else { throw ParquetError("negative value count \(count)") }
    var out: [ParquetPrimitive] = []
    // No value takes less than one bit: a corrupt count cannot reserve more than the data allows.
    out.reserveCapacity(min(count, range.count * 8))
    var p = range.lowerBound
    let end = range.upperBound
    func need(_ n: Int) throws {
        guard n >= 0, end - p >= n else { throw ParquetError("PLAIN \(type) data truncated") }
    }
    switch type {
    case .boolean:
        try need((count + 7) / 8)
        for i in 0..<count { out.append(.bool(bytes[p + i / 8] >> UInt8(i % 8) & 1 == 1)) }
    case .int32:
        try need(4 * count)
        for i in 0..<count { out.append(.int(Int64(Int32(truncatingIfNeeded: littleEndian(bytes, p + 4 * i, 4))))) }
    case .int64:
        try need(8 * count)
        for i in 0..<count { out.append(.int(Int64(bitPattern: littleEndian(bytes, p + 8 * i, 8)))) }
    case .float:
        try need(4 * count)
        for i in 0..<count { out.append(.double(Double(Float(bitPattern: UInt32(littleEndian(bytes, p + 4 * i, 4)))))) }
    case .double:
        try need(8 * count)
        for i in 0..<count { out.append(.double(Double(bitPattern: littleEndian(bytes, p + 8 * i, 8)))) }
    case .int96:
        try need(12 * count)
        for i in 0..<count { out.append(.bytes(Array(bytes[p + 12 * i..<p + 12 * i + 12]))) }
    case .byteArray:
        for _ in 0..<count {
            try need(4)
            let n = Int(littleEndian(bytes, p, 4))
            p += 4
            try need(n)
            out.append(.bytes(Array(bytes[p..<p + n])))
            p += n
        }
    case .fixedLenByteArray:
        guard let n = typeLength, n >= 0 else { throw ParquetError("FIXED_LEN_BYTE_ARRAY column without a type length") }
        try need(n * count)
        for i in 0..<count { out.append(.bytes(Array(bytes[p + n * i..<p + n * i + n]))) }
    }
    return out
}
