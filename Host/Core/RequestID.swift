import Synchronization

/// Request ids: a per-process random prefix and a counter. Unique, cheap, and carry no secret.
public enum RequestID {
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt32, radix: 36)
    }()
    private static let counter = Atomic<Int>(0)

    public static func next() -> String {
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        // One string written in place (two concatenations and a radix conversion cost ~1k
        // instructions a request).
        var prefix = self.prefix
        return prefix.withUTF8 { head in
            String(unsafeUninitializedCapacity: head.count + 1 + 13) { out in
                var n = 0
                for byte in head {
                    out[n] = byte
                    n += 1
                }
                out[n] = UInt8(ascii: "-")
                n += 1
                // Base 36, least significant digit first, then reversed in place (13 digits hold any UInt64).
                var rest = UInt64(UInt(bitPattern: value))
                var count = 0
                repeat {
                    let digit = UInt8(rest % 36)
                    out[n + count] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                    rest /= 36
                    count += 1
                } while rest > 0
                var low = n
                var high = n + count - 1
                while low < high {
                    out.swapAt(low, high)
                    low += 1
                    high -= 1
                }
                return n + count
            }
        }
    }
}
