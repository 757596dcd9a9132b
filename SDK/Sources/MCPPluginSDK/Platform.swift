// The few platform imports the SDK needs. FoundationEssentials (where available) brings
// JSONEncoder/JSONDecoder/Data without ICU, which keeps a plugin .so small.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One encoder and one decoder for the whole plugin: both are safe to share once configured, and
/// creating them per call would cost more than the call itself. Sorted keys make
/// `structuredContent` byte-for-byte reproducible (about 2% of an echo call, measured).
let sharedDecoder = JSONDecoder()
let sharedEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

/// Copies `bytes` into a `malloc`ed buffer the host will release with `free_buf` (= `free`).
@inline(__always)
func mallocCopy(_ bytes: UnsafeRawBufferPointer) -> (UnsafeMutablePointer<UInt8>?, Int) {
    guard bytes.count > 0, let base = bytes.baseAddress else { return (nil, 0) }
    let buffer = malloc(bytes.count)!.assumingMemoryBound(to: UInt8.self)
    buffer.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    return (buffer, bytes.count)
}

/// `malloc`ed UTF-8 copy of `text` (for error messages handed to the host).
func mallocCopy(_ text: String) -> (UnsafeMutablePointer<UInt8>?, Int) {
    var text = text
    return text.withUTF8 { mallocCopy(UnsafeRawBufferPointer($0)) }
}

/// A `strdup` that never returns nil (the descriptor's strings live for the whole process).
func leakedCString(_ text: String) -> UnsafePointer<CChar> {
    UnsafePointer(strdup(text)!)
}
