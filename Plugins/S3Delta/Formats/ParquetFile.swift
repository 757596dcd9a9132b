import CSnappy

/// A Parquet file in an object store: the footer read with one or two ranged reads from the end,
/// and column chunks read on demand, one ranged read each — memory stays bounded by the largest
/// column chunk asked for, not by the file.
public struct ParquetFile: Sendable {
    public let key: String
    public let size: Int
    public let metadata: ParquetFileMetadata
    public let schema: ParquetSchema
    /// Bytes of the Thrift-encoded footer.
    public let footerLength: Int
    let store: any ObjectStore

    /// Bytes fetched speculatively from the end: most footers fit, saving a second round trip.
    static let tailGuess = 64 * 1024
    /// Largest footer accepted; a bigger length field means a corrupt file.
    static let maxFooter = 256 * 1024 * 1024

    public static func open(_ store: any ObjectStore, key: String, size knownSize: Int? = nil) async throws -> ParquetFile {
        let size: Int
        if let knownSize { size = knownSize } else { size = try await store.head(key).size }
        guard size >= 12 else {
            throw ParquetError("'\(key)' is not a Parquet file: \(size) bytes is too short for the PAR1 header and footer")
        }
        let tailStart = max(0, size - tailGuess)
        let tail = try await store.read(key, range: tailStart..<size)
        guard tail.count == size - tailStart else { throw ParquetError("'\(key)': short read of the footer") }
        let magic = Array(tail[(tail.count - 4)...])
        if magic == Array("PARE".utf8) {
            throw ParquetError("'\(key)' is an encrypted Parquet file (PARE footer); encrypted footers are not supported")
        }
        guard magic == Array("PAR1".utf8) else {
            throw ParquetError("'\(key)' is not a Parquet file: it does not end with the PAR1 magic")
        }
        let footerLength = Int(littleEndian(tail, tail.count - 8, 4))
        guard footerLength > 0, footerLength <= size - 12, footerLength <= maxFooter else {
            throw ParquetError("'\(key)' is not a valid Parquet file: footer length \(footerLength) does not fit a \(size)-byte file")
        }
        let footer: [UInt8]
        if footerLength + 8 <= tail.count {
            footer = Array(tail[(tail.count - 8 - footerLength)..<(tail.count - 8)])
        } else {
            footer = try await store.read(key, range: (size - 8 - footerLength)..<(size - 8))
            guard footer.count == footerLength else { throw ParquetError("'\(key)': short read of the footer") }
        }
        let metadata: ParquetFileMetadata
        let schema: ParquetSchema
        do {
            var reader = ThriftCompactReader(footer)
            metadata = try ParquetFileMetadata(thrift: try reader.readStruct())
            schema = try ParquetSchema(metadata.schema)
            for (g, group) in metadata.rowGroups.enumerated() where group.columns.count != schema.leaves.count {
                throw ParquetError("row group \(g) has \(group.columns.count) column chunks for \(schema.leaves.count) schema columns")
            }
        } catch {
            throw ParquetError("'\(key)' has a corrupt Parquet footer: \(error)")
        }
        return ParquetFile(key: key, size: size, metadata: metadata, schema: schema, footerLength: footerLength, store: store)
    }

    /// Decoded levels and values of one column chunk.
    public struct ColumnData: Sendable {
        /// One per slot (nil when the column's max definition level is 0: every slot is defined).
        public var definitionLevels: [Int32]?
        public var repetitionLevels: [Int32]?
        /// One per slot whose definition level is the maximum.
        public var values: [ParquetPrimitive]
        public var slotCount: Int
    }

    /// Reads and decodes the chunk of `leaf` in row group `rowGroup`.
    public func readColumn(rowGroup: Int, leaf: ParquetSchemaNode) async throws -> ColumnData {
        try await readColumns(rowGroup: rowGroup, leaves: [leaf])[0]
    }

    /// Reads and decodes the chunks of `leaves` in row group `rowGroup`. When the chunks lie close
    /// together (they fill at least half of the span from the first to the last), one ranged read
    /// fetches them all — on S3 one request instead of one per column; otherwise each is read alone.
    public func readColumns(rowGroup: Int, leaves: [ParquetSchemaNode]) async throws -> [ColumnData] {
        let chunks = try leaves.map { try chunkRange(rowGroup: rowGroup, leaf: $0) }
        guard let first = chunks.map(\.range.lowerBound).min(), let last = chunks.map(\.range.upperBound).max() else { return [] }
        let wanted = chunks.reduce(0) { $0 + $1.range.count }
        var shared: (base: Int, bytes: [UInt8])?
        if chunks.count > 1 && (last - first) <= 2 * wanted {
            let bytes = try await store.read(key, range: first..<last)
            guard bytes.count == last - first else { throw ParquetError("'\(key)': short read of row group \(rowGroup)") }
            shared = (first, bytes)
        }
        var out: [ColumnData] = []
        out.reserveCapacity(leaves.count)
        for (leaf, chunk) in zip(leaves, chunks) {
            try Task.checkCancellation()
            let bytes: [UInt8]
            if let shared {
                bytes = Array(shared.bytes[(chunk.range.lowerBound - shared.base)..<(chunk.range.upperBound - shared.base)])
            } else {
                bytes = try await store.read(key, range: chunk.range)
                guard bytes.count == chunk.range.count else { throw ParquetError("'\(key)': short read of column '\(chunk.column)'") }
            }
            var decoder = ColumnChunkDecoder(
                bytes: bytes, codec: chunk.meta.codec, type: leaf.element.physicalType!, typeLength: leaf.element.typeLength,
                maxDefinition: leaf.definitionLevel, maxRepetition: leaf.repetitionLevel, column: chunk.column)
            out.append(try decoder.decode(totalValues: Int(clamping: chunk.meta.numValues)))
        }
        return out
    }

    /// The validated byte range of a leaf's chunk.
    func chunkRange(rowGroup: Int, leaf: ParquetSchemaNode) throws -> (range: Range<Int>, meta: ParquetColumnChunk, column: String) {
        guard let leafIndex = leaf.leafIndex, leaf.element.physicalType != nil else {
            throw ParquetError("'\(leaf.path.joined(separator: "."))' is not a leaf column")
        }
        let chunk = metadata.rowGroups[rowGroup].columns[leafIndex]
        let column = chunk.path.joined(separator: ".")
        if let other = chunk.filePath, !other.isEmpty {
            throw ParquetError("'\(key)': column '\(column)' is stored in another file (\(other)); external column chunks are not supported")
        }
        let start = Int(clamping: chunk.startOffset)
        let length = Int(clamping: chunk.totalCompressedSize)
        guard start >= 4, length > 0, length <= size, start <= size - length else {
            throw ParquetError("'\(key)': column '\(column)' chunk \(start)+\(length) lies outside the file")
        }
        return (start..<(start + length), chunk, column)
    }
}

/// Walks the pages of one column chunk: dictionary page, data pages v1 and v2.
struct ColumnChunkDecoder {
    let bytes: [UInt8]
    let codec: Int
    let type: ParquetPhysicalType
    let typeLength: Int?
    let maxDefinition: Int
    let maxRepetition: Int
    let column: String
    var dictionary: [ParquetPrimitive]?

    init(bytes: [UInt8], codec: Int, type: ParquetPhysicalType, typeLength: Int?, maxDefinition: Int,
         maxRepetition: Int, column: String) {
        self.bytes = bytes
        self.codec = codec
        self.type = type
        self.typeLength = typeLength
        self.maxDefinition = maxDefinition
        self.maxRepetition = maxRepetition
        self.column = column
    }

    /// Values one column chunk may hold: decoded values live in memory, and a corrupt count must not
    /// turn a few RLE bytes into gigabytes. Real checkpoints stay far below (a row group per ~128 MiB).
    static let maxValuesPerChunk = 10_000_000

    mutating func decode(totalValues: Int) throws -> ParquetFile.ColumnData {
        guard totalValues >= 0, totalValues <= Self.maxValuesPerChunk else {
            throw ParquetError("column '\(column)': a chunk of \(totalValues) values is beyond the \(Self.maxValuesPerChunk) this reader decodes")
        }
        guard codec == 0 || codec == 1 else {
            throw ParquetError("column '\(column)' uses the \(codecName(codec)) codec; supported codecs are UNCOMPRESSED and SNAPPY")
        }
        var result = ParquetFile.ColumnData(
            definitionLevels: maxDefinition > 0 ? [] : nil, repetitionLevels: maxRepetition > 0 ? [] : nil,
            values: [], slotCount: 0)
        var position = 0
        while result.slotCount < totalValues && position < bytes.count {
            var reader = ThriftCompactReader(bytes, position: position)
            let header: ThriftStruct
            do { header = try reader.readStruct() } catch { throw ParquetError("column '\(column)': corrupt page header: \(error)") }
            let compressedSize = Int(header.int(3) ?? -1)
            let uncompressedSize = Int(header.int(2) ?? -1)
            let dataStart = reader.position
            guard compressedSize >= 0, uncompressedSize >= 0, dataStart + compressedSize <= bytes.count else {
                throw ParquetError("column '\(column)': page sizes run past the column chunk")
            }
            let pageRange = dataStart..<(dataStart + compressedSize)
            // Counts come from the file: a corrupt one must be an error, not a trap or a huge allocation.
            let remaining = totalValues - result.slotCount
            func pageCount(_ value: Int64?) throws -> Int {
                guard let value, value >= 0, value <= Int64(remaining) else {
                    throw ParquetError("column '\(column)': invalid value count \(value.map(String.init) ?? "missing") in a page header")
                }
                return Int(value)
            }
            position = pageRange.upperBound
            switch header.int(1) {
            case 2:  // DICTIONARY_PAGE
                let d = header.structure(7)
                let count = Int(d?.int(1) ?? 0)
                guard count >= 0, count <= Self.maxValuesPerChunk else {
                    throw ParquetError("column '\(column)': invalid dictionary size \(count)")
                }
                let encoding = Int(d?.int(2) ?? 0)
                guard encoding == 0 || encoding == 2 else {
                    throw ParquetError("column '\(column)': dictionary page encoding \(encodingName(encoding)) is not supported")
                }
                let page = try decompress(pageRange, uncompressedSize: uncompressedSize)
                dictionary = try decodePlain(page, range: 0..<page.count, count: count, type: type, typeLength: typeLength)
            case 0:  // DATA_PAGE (v1): levels and values are compressed together.
                guard let d = header.structure(5) else { throw ParquetError("column '\(column)': data page without its header") }
                // Levels in the deprecated BIT_PACKED encoding (4) have no length prefix and another bit order.
                if (maxDefinition > 0 && d.int(3) == 4) || (maxRepetition > 0 && d.int(4) == 4) {
                    throw ParquetError("column '\(column)' stores levels in the deprecated BIT_PACKED encoding; only RLE levels are supported")
                }
                let count = try pageCount(d.int(1))
                let page = try decompress(pageRange, uncompressedSize: uncompressedSize)
                var p = 0
                if maxRepetition > 0 {
                    let levels = try lengthPrefixedLevels(page, at: &p, count: count, max: maxRepetition, what: "repetition")
                    result.repetitionLevels!.append(contentsOf: levels)
                }
                var defined = count
                if maxDefinition > 0 {
                    let levels = try lengthPrefixedLevels(page, at: &p, count: count, max: maxDefinition, what: "definition")
                    defined = levels.reduce(0) { $0 + ($1 == Int32(maxDefinition) ? 1 : 0) }
                    result.definitionLevels!.append(contentsOf: levels)
                }
                result.values += try values(page, range: p..<page.count, count: defined, encoding: Int(d.int(2) ?? 0))
                result.slotCount += count
            case 3:  // DATA_PAGE_V2: levels first, never compressed; then (maybe compressed) values.
                guard let d = header.structure(8) else { throw ParquetError("column '\(column)': data page v2 without its header") }
                let count = try pageCount(d.int(1))
                let nulls = try pageCount(d.int(2) ?? 0)
                guard nulls <= count else { throw ParquetError("column '\(column)': data page v2 has more nulls than values") }
                let repLength = Int(d.int(6) ?? 0)
                let defLength = Int(d.int(5) ?? 0)
                guard repLength >= 0, defLength >= 0, repLength + defLength <= compressedSize else {
                    throw ParquetError("column '\(column)': data page v2 level lengths exceed the page")
                }
                var p = pageRange.lowerBound
                if maxRepetition > 0 {
                    var rle = RLEBitPackedDecoder(bytes, range: p..<(p + repLength), bitWidth: bitWidth(of: maxRepetition))
                    result.repetitionLevels!.append(contentsOf: try rle.decode(count: count))
                }
                p += repLength
                if maxDefinition > 0 {
                    var rle = RLEBitPackedDecoder(bytes, range: p..<(p + defLength), bitWidth: bitWidth(of: maxDefinition))
                    result.definitionLevels!.append(contentsOf: try rle.decode(count: count))
                }
                p += defLength
                let valueRange = p..<pageRange.upperBound
                let compressed = d.bool(7) ?? true
                let valueBytes: [UInt8]
                if compressed && codec != 0 {
                    valueBytes = try decompress(valueRange, uncompressedSize: uncompressedSize - repLength - defLength)
                } else {
                    valueBytes = Array(bytes[valueRange])
                }
                result.values += try values(valueBytes, range: 0..<valueBytes.count, count: count - nulls, encoding: Int(d.int(4) ?? 0))
                result.slotCount += count
            case 1:  // INDEX_PAGE: nothing to decode.
                continue
            case let other:
                throw ParquetError("column '\(column)': unknown page type \(other.map(String.init) ?? "missing")")
            }
        }
        guard result.slotCount >= totalValues else {
            throw ParquetError("column '\(column)': the chunk ends after \(result.slotCount) of \(totalValues) values")
        }
        return result
    }

    func lengthPrefixedLevels(_ page: [UInt8], at p: inout Int, count: Int, max: Int, what: String) throws -> [Int32] {
        guard page.count - p >= 4 else { throw ParquetError("column '\(column)': \(what) levels truncated") }
        let length = Int(littleEndian(page, p, 4))
        p += 4
        guard length <= page.count - p else { throw ParquetError("column '\(column)': \(what) levels run past the page") }
        var rle = RLEBitPackedDecoder(page, range: p..<(p + length), bitWidth: bitWidth(of: max))
        p += length
        return try rle.decode(count: count)
    }

    func values(_ page: [UInt8], range: Range<Int>, count: Int, encoding: Int) throws -> [ParquetPrimitive] {
        guard count > 0 else { return [] }
        switch encoding {
        case 0:  // PLAIN
            return try decodePlain(page, range: range, count: count, type: type, typeLength: typeLength)
        case 2, 8:  // PLAIN_DICTIONARY, RLE_DICTIONARY: a bit width byte, then hybrid-encoded indices.
            guard let dictionary else { throw ParquetError("column '\(column)': dictionary-encoded page without a dictionary page") }
            guard !range.isEmpty else { throw ParquetError("column '\(column)': empty dictionary-encoded page") }
            var rle = RLEBitPackedDecoder(page, range: (range.lowerBound + 1)..<range.upperBound, bitWidth: Int(page[range.lowerBound]))
            return try rle.decode(count: count).map { index in
                guard index >= 0, Int(index) < dictionary.count else {
                    throw ParquetError("column '\(column)': dictionary index \(index) out of \(dictionary.count)")
                }
                return dictionary[Int(index)]
            }
        case 3 where type == .boolean:  // RLE booleans (data page v2): 4-byte length, then hybrid, width 1.
            guard range.count >= 4 else { throw ParquetError("column '\(column)': RLE booleans truncated") }
            var rle = RLEBitPackedDecoder(page, range: (range.lowerBound + 4)..<range.upperBound, bitWidth: 1)
            return try rle.decode(count: count).map { .bool($0 == 1) }
        default:
            throw ParquetError("column '\(column)' uses the \(encodingName(encoding)) encoding; supported are PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY (and RLE for booleans)")
        }
    }

    func decompress(_ range: Range<Int>, uncompressedSize: Int) throws -> [UInt8] {
        switch codec {
        case 0:
            return Array(bytes[range])
        case 1:
            guard uncompressedSize >= 0, uncompressedSize <= 1 << 30 else {
                throw ParquetError("column '\(column)': page claims \(uncompressedSize) uncompressed bytes")
            }
            if range.isEmpty { return [] }
            return try bytes.withUnsafeBufferPointer { buffer -> [UInt8] in
                let source = UnsafeRawPointer(buffer.baseAddress! + range.lowerBound).assumingMemoryBound(to: CChar.self)
                var length = 0
                guard snappy_uncompressed_length(source, range.count, &length) == SNAPPY_OK, length == uncompressedSize else {
                    throw ParquetError("column '\(column)': corrupt snappy page")
                }
                var output = [UInt8](repeating: 0, count: length)
                let status = output.withUnsafeMutableBufferPointer { out in
                    out.withMemoryRebound(to: CChar.self) { snappy_uncompress(source, range.count, $0.baseAddress, &length) }
                }
                guard status == SNAPPY_OK else { throw ParquetError("column '\(column)': corrupt snappy page") }
                return output
            }
        default:
            throw ParquetError("column '\(column)' uses the \(codecName(codec)) codec; supported codecs are UNCOMPRESSED and SNAPPY")
        }
    }
}
