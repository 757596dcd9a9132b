import Dispatch
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The stdio front: newline-delimited messages on standard input, one message per line on
/// standard output (logs go to standard error). It hands each line to `receive` and gives the
/// handler a writer; it knows nothing about what the lines mean.
public enum StdioFront {
    /// Reads lines until end of input. `receive` is awaited in order; it may start work and return.
    public static func run(receive: @Sendable ([UInt8]) async -> Void) async {
        let (lines, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let reader = Thread {
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            guard let input = fdopen(0, "r") else {
                continuation.finish()
                return
            }
            while true {
                let count = getline(&line, &capacity, input)
                if count < 0 { break }
                var bytes = Array(UnsafeRawBufferPointer(start: line, count: count))
                while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
                if !bytes.isEmpty { continuation.yield(bytes) }
            }
            free(line)
            continuation.finish()
        }
        reader.start()
        for await line in lines { await receive(line) }
    }

    /// Writes one message and a newline to standard output, atomically with respect to other writes.
    public static let writer = StdoutWriter()

    /// On SIGTERM or SIGINT runs `action` (finish or cancel work), then exits with status 0 — the
    /// way stdio clients stop a server after closing its input.
    public static func onTermination(_ action: @escaping @Sendable () async -> Void) -> SignalWatch {
        let sources = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                Task {
                    await action()
                    exit(0)
                }
            }
            source.resume()
            return source
        }
        return SignalWatch(sources: sources)
    }
}

/// Signal handlers installed by `StdioFront.onTermination`; `cancel()` removes them.
public final class SignalWatch: @unchecked Sendable {
    // @unchecked: DispatchSource is thread-safe; the array is never mutated.
    private let sources: [DispatchSourceSignal]
    init(sources: [DispatchSourceSignal]) { self.sources = sources }
    public func cancel() { sources.forEach { $0.cancel() } }
}

public final class StdoutWriter: Sendable {
    private let lock = NIOLock()

    public func write(_ message: [UInt8]) {
        var line = message
        line.append(0x0A)
        lock.withLock {
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}

/// A plain POSIX thread running a closure (Foundation's Thread would pull Foundation in here).
final class Thread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { pointer in
            let this = Unmanaged<Thread>.fromOpaque(pointer!).takeRetainedValue()
            this.body()
            return nil
        }, box)
        pthread_detach(thread)
    }
}
