import Dispatch

/// Where the calls of a plugin with `performsBlockingWork` run: Dispatch's thread pool, not the
/// host's event loops.
///
/// Why: the host installs its event loops as the global concurrency executor, so plugin code runs
/// on them by default — right for a tool that mostly awaits the host's HTTP service, wrong for one
/// that does seconds of CPU work (the s3delta plugin streaming a 1 GB CSV) or blocking file reads:
/// on an event loop that stalls every connection the loop serves. With this executor as the call's
/// task executor preference the work hops to Dispatch threads, and only the host's HTTP
/// completions touch the loops. The hop costs a thread switch per call, so it is opt-in.
final class BlockingWorkExecutor: TaskExecutor {
    static let shared = BlockingWorkExecutor()

    private let queue = DispatchQueue(label: "mcp-plugin.blocking-work", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
