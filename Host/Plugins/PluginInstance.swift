import CMCPPlugin
import MCPJSON
import NIOConcurrencyHelpers
import NIOCore

/// How a tool call ended, as the plugin reported it (or as the host decided on timeout).
public enum PluginCallOutcome: Sendable {
    /// MCP_STATUS_OK: the raw CallToolResult JSON the plugin produced (not yet validated).
    case result([UInt8])
    /// MCP_STATUS_TOOL_ERROR / MCP_STATUS_INVALID_ARGUMENTS: a message for an isError result.
    case toolError(String)
    case unknownTool(String)
    case cancelled
    /// The deadline passed first; the host asked the plugin to cancel.
    case deadlineExceeded(milliseconds: Int64)
    case internalError(String)
}

/// A progress report from a running call.
public struct PluginProgress: Sendable {
    public var progress: Double
    public var total: Double?
    public var message: String?
}

/// One plugin instance built for one tenant from that tenant's configuration. Destroyed when the
/// last reference goes (after its in-flight calls, which hold references, have completed).
public final class PluginInstance: @unchecked Sendable {
    // @unchecked: `handle` is an opaque pointer owned by the plugin; every ABI entry point is
    // documented as callable from any thread.
    public let image: PluginImage
    public let token: InstanceToken
    private let handle: UnsafeMutableRawPointer
    private let tokenPointer: UnsafeMutableRawPointer
    private let nextCallID = NIOLockedValueBox<UInt64>(1)

    public struct CreationError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates an instance. `configuration` must already conform to the plugin's configSchema.
    public init(image: PluginImage, configuration: JSONValue, token: InstanceToken) throws(CreationError) {
        self.image = image
        self.token = token
        let retained = Unmanaged.passRetained(token)
        let config = configuration.serialized()
        var instance: UnsafeMutableRawPointer?
        var errorPointer: UnsafeMutablePointer<UInt8>?
        var errorLength = 0
        let status = config.withUnsafeBufferPointer { buffer in
            image.descriptor.pointee.create_instance(
                buffer.baseAddress, buffer.count, retained.toOpaque(), &instance, &errorPointer, &errorLength)
        }
        guard status == MCP_STATUS_OK, let instance else {
            let message = image.takeString(errorPointer, errorLength)
            retained.release()
            throw CreationError(
                description: "plugin \(image.name) refused the configuration: \(message.isEmpty ? "status \(status)" : message)")
        }
        handle = instance
        tokenPointer = retained.toOpaque()
    }

    deinit {
        image.descriptor.pointee.destroy_instance(handle)
        Unmanaged<InstanceToken>.fromOpaque(tokenPointer).release()
    }

    /// Calls `tool` with already-validated `arguments` (a JSON object). Returns when the plugin
    /// completes, when `deadline` passes (the plugin is asked to cancel; a late completion is
    /// dropped), or when the calling task is cancelled (likewise).
    public func call(
        tool: String, arguments: [UInt8], context: [UInt8], deadline: NIODeadline, on eventLoop: EventLoop,
        progress: (@Sendable (PluginProgress) -> Void)? = nil
    ) async -> PluginCallOutcome {
        let callID = nextCallID.withLockedValue { id -> UInt64 in
            defer { id += 1 }
            return id
        }
        let state = CallState(instance: self, callID: callID, progress: progress)
        if Task.isCancelled { return .cancelled }
        let start = NIODeadline.now()
        invoke(tool: tool, arguments: arguments, context: context, callID: callID, state: state)
        // Most tools (echo always) complete inside the plugin's `call`: their outcome is returned
        // without a continuation, a cancellation handler or a timer, which together cost ~9k of
        // ~186k instructions per tools/call (scripts/callgrind-request-cost).
        if let outcome = state.takeOutcome() { return outcome }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<PluginCallOutcome, Never>) in
                // Resumes at once if the plugin completed (or the task was cancelled) meanwhile.
                guard state.wait(continuation) else { return }
                // The deadline is absolute, so arming the timer only now does not move it.
                let timer = eventLoop.scheduleTask(deadline: deadline) {
                    let elapsed = (NIODeadline.now() - start).nanoseconds / 1_000_000
                    let timeout = (deadline - start).nanoseconds / 1_000_000
                    if state.finish(.deadlineExceeded(milliseconds: max(elapsed, timeout))) {
                        self.cancel(callID)
                    }
                }
                state.setTimer(timer)
            }
        } onCancel: {
            if state.finish(.cancelled) { self.cancel(callID) }
        }
    }

    /// Hands the call to the plugin; its completion (now or later, on any thread) goes to `state`.
    private func invoke(tool: String, arguments: [UInt8], context: [UInt8], callID: UInt64, state: CallState) {
        let retained = Unmanaged.passRetained(state).toOpaque()
        var tool = tool
        tool.withUTF8 { toolBuffer in
            arguments.withUnsafeBufferPointer { argumentBuffer in
                context.withUnsafeBufferPointer { contextBuffer in
                    var call = mcp_call(
                        call_id: callID, tool: toolBuffer.baseAddress, tool_len: toolBuffer.count,
                        arguments: argumentBuffer.baseAddress, arguments_len: argumentBuffer.count,
                        context_json: contextBuffer.baseAddress, context_len: contextBuffer.count,
                        call_context: retained, completion: callCompletion, progress: callProgress)
                    image.descriptor.pointee.call(handle, &call)
                }
            }
        }
    }

    func cancel(_ callID: UInt64) {
        image.descriptor.pointee.cancel(handle, callID)
    }
}

/// The host side of one call: decides its outcome exactly once, whichever of completion,
/// deadline or cancellation comes first, and hands it to the caller either directly (decided before
/// the caller waits) or through the continuation (the lock and `done` make the unsafe continuation
/// safe). It stays retained until the plugin completes.
final class CallState: @unchecked Sendable {
    // @unchecked: all mutable state is behind `lock`.
    let instance: PluginInstance
    let callID: UInt64
    private let progressHandler: (@Sendable (PluginProgress) -> Void)?
    private let lock = NIOLock()
    private var continuation: UnsafeContinuation<PluginCallOutcome, Never>?
    private var pendingOutcome: PluginCallOutcome?
    private var done = false
    private var timer: Scheduled<Void>?
    private var lastProgress = -Double.infinity

    init(instance: PluginInstance, callID: UInt64, progress: (@Sendable (PluginProgress) -> Void)?) {
        self.instance = instance
        self.callID = callID
        self.progressHandler = progress
    }

    /// The outcome, if one was decided before anybody waited for it.
    func takeOutcome() -> PluginCallOutcome? {
        lock.withLock {
            defer { pendingOutcome = nil }
            return pendingOutcome
        }
    }

    /// Waits with `continuation`, or resumes it at once when the outcome is already decided.
    /// Returns whether the call is still running (then a deadline timer is due).
    func wait(_ continuation: UnsafeContinuation<PluginCallOutcome, Never>) -> Bool {
        let decided = lock.withLock { () -> PluginCallOutcome? in
            if done {
                defer { pendingOutcome = nil }
                return pendingOutcome
            }
            self.continuation = continuation
            return nil
        }
        if let decided {
            continuation.resume(returning: decided)
            return false
        }
        return true
    }

    func setTimer(_ timer: Scheduled<Void>) {
        let cancelNow = lock.withLock { () -> Bool in
            if done { return true }
            self.timer = timer
            return false
        }
        if cancelNow { timer.cancel() }
    }

    /// Resumes the caller with `outcome` unless something else already did. Returns whether
    /// this call decided the outcome.
    @discardableResult
    func finish(_ outcome: PluginCallOutcome) -> Bool {
        let (continuation, timer, decided): (UnsafeContinuation<PluginCallOutcome, Never>?, Scheduled<Void>?, Bool) =
            lock.withLock {
                if done { return (nil, nil, false) }
                done = true
                defer { self.continuation = nil; self.timer = nil }
                // Nobody waits yet: `takeOutcome` or `wait` picks the outcome up.
                if self.continuation == nil { pendingOutcome = outcome }
                return (self.continuation, self.timer, true)
            }
        timer?.cancel()
        continuation?.resume(returning: outcome)
        return decided
    }

    func report(_ progress: PluginProgress) {
        guard let handler = progressHandler else { return }
        let accept = lock.withLock { () -> Bool in
            guard !done, progress.progress > lastProgress, progress.progress.isFinite else { return false }
            lastProgress = progress.progress
            return true
        }
        if accept { handler(progress) }
    }
}

private func callCompletion(
    _ context: UnsafeMutableRawPointer?, _ status: mcp_status, _ result: UnsafeMutablePointer<UInt8>?, _ length: Int
) {
    guard let context else { return }
    let state = Unmanaged<CallState>.fromOpaque(context).takeRetainedValue()
    let image = state.instance.image
    let bytes = result.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
    if let result { image.free(result) }
    let text = { String(decoding: bytes, as: UTF8.self) }
    let outcome: PluginCallOutcome
    switch status {
    case MCP_STATUS_OK: outcome = .result(bytes)
    case MCP_STATUS_TOOL_ERROR, MCP_STATUS_INVALID_ARGUMENTS: outcome = .toolError(text())
    case MCP_STATUS_UNKNOWN_TOOL: outcome = .unknownTool(text())
    case MCP_STATUS_CANCELLED: outcome = .cancelled
    case MCP_STATUS_INTERNAL_ERROR: outcome = .internalError(text())
    default: outcome = .internalError("unknown status \(status): \(text())")
    }
    state.finish(outcome)
}

private func callProgress(
    _ context: UnsafeMutableRawPointer?, _ progress: Double, _ total: Double, _ message: UnsafePointer<UInt8>?,
    _ length: Int
) {
    guard let context else { return }
    let state = Unmanaged<CallState>.fromOpaque(context).takeUnretainedValue()
    let text = message.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
    state.report(PluginProgress(progress: progress, total: total >= 0 ? total : nil, message: text))
}
