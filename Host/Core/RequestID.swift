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
        return prefix + "-" + String(value, radix: 36)
    }
}
