import Dispatch

/// Where this plugin's tool calls run: Dispatch's thread pool, not the host's event loops.
///
/// Why: the host installs its event loops as the global concurrency executor, so plugin code
/// runs on them by default. These tools do seconds of CPU work (streaming a 1 GB CSV, decoding
/// a checkpoint) and blocking file reads (`pread` in `LocalStore`); on an event loop that would
/// stall every connection the loop serves. With this executor as the call's task executor
/// preference, the work hops to Dispatch threads and only the host's HTTP completions touch the
/// loops.
final class WorkExecutor: TaskExecutor {
    static let shared = WorkExecutor()

    private let queue = DispatchQueue(label: "s3delta.work", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
