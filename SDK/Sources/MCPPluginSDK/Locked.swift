#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a `pthread_mutex_t`, in one allocation (value and mutex tail-allocated).
///
/// Why not `Synchronization.Mutex`: on Linux it is built on raw futexes inside a library that is
/// not compiled for ThreadSanitizer, so TSan cannot see its happens-before edges and reports every
/// guarded access as a race. The host's tests run plugins under TSan; a pthread mutex is
/// intercepted by TSan and costs the same uncontended.
struct Locked<Value>: @unchecked Sendable {
    // @unchecked: every access to the value goes through the mutex.
    private let storage: Storage

    init(_ value: Value) {
        storage = Storage.make(value)
    }

    @inline(__always)
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try storage.withUnsafeMutablePointers { value, mutex in
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&value.pointee)
        }
    }

    final class Storage: ManagedBuffer<Value, pthread_mutex_t> {
        static func make(_ value: Value) -> Storage {
            let buffer = create(minimumCapacity: 1) { _ in value }
            let storage = unsafeDowncast(buffer, to: Storage.self)
            storage.withUnsafeMutablePointerToElements { mutex in
                mutex.initialize(to: pthread_mutex_t())
                pthread_mutex_init(mutex, nil)
            }
            return storage
        }

        deinit {
            withUnsafeMutablePointerToElements { mutex in
                pthread_mutex_destroy(mutex)
                _ = mutex.deinitialize(count: 1)
            }
        }
    }
}
