import S3DeltaFormats
import Synchronization

/// An in-memory `ObjectStore` for the CSV tests; records reads so tests can check bounded access.
final class CSVMemoryStore: ObjectStore {
    let objects: [String: [UInt8]]
    private let log = Mutex<[Range<Int>]>([])
    /// Every range read, in order of arrival (reads may run concurrently).
    var reads: [Range<Int>] { log.withLock { $0 } }

    init(_ objects: [String: [UInt8]]) {
        self.objects = objects
    }

    func list(prefix: String) async throws -> [ObjectInfo] {
        objects.filter { $0.key.hasPrefix(prefix) }.map { ObjectInfo(key: $0.key, size: $0.value.count) }.sorted { $0.key < $1.key }
    }

    func head(_ key: String) async throws -> ObjectInfo {
        guard let bytes = objects[key] else { throw ObjectStoreError.notFound(key) }
        return ObjectInfo(key: key, size: bytes.count)
    }

    func read(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        guard let bytes = objects[key] else { throw ObjectStoreError.notFound(key) }
        log.withLock { $0.append(range) }
        let lower = min(range.lowerBound, bytes.count)
        return Array(bytes[lower..<min(range.upperBound, bytes.count)])
    }

    func read(_ key: String) async throws -> [UInt8] {
        try await read(key, range: 0..<Int.max)
    }
}

/// Records of `text` as string arrays, scanned by feeding `chunk`-byte pieces.
func csvRecords(_ text: [UInt8], delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""), chunk: Int = 1 << 20) throws
    -> [[String]]
{
    let scanner = CSVScanner(delimiter: delimiter, quote: quote)
    var stream = CSVRecordStream(scanner: scanner, startOffset: 0)
    var out: [[String]] = []
    var offset = 0
    repeat {
        let end = min(text.count, offset + chunk)
        _ = try stream.feed(Array(text[offset..<end]), final: end == text.count) { record in
            if !record.isBlank { out.append(record.fields.map { scanner.string(record.buffer, $0) }) }
            return true
        }
        offset = end
    } while offset < text.count
    return out
}
