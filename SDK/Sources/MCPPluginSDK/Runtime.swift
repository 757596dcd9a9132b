internal import CMCPPlugin

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

/// How a call ended, before it is turned into a status and a buffer for the host.
enum CallOutcome {
    case result(ToolResult)
    case failure(mcp_status, String)

    /// Maps what a tool threw to the ABI's status codes.
    init(_ error: any Error) {
        switch error {
        case let error as ToolError:
            switch error.kind {
            case .tool: self = .failure(MCP_STATUS_TOOL_ERROR, error.message)
            case .invalidArguments: self = .failure(MCP_STATUS_INVALID_ARGUMENTS, error.message)
            case .unknownTool: self = .failure(MCP_STATUS_UNKNOWN_TOOL, error.message)
            }
        case is CancellationError:
            self = .failure(MCP_STATUS_CANCELLED, "")
        case let error as DecodingError:
            self = .failure(MCP_STATUS_INVALID_ARGUMENTS, describe(error, field: "argument", whole: "arguments"))
        case let error as HostHTTPError:
            self = .failure(MCP_STATUS_TOOL_ERROR, error.description)
        default:
            self = .failure(MCP_STATUS_INTERNAL_ERROR, String(describing: error))
        }
    }

    /// The status and a `malloc`ed buffer the host releases with `free_buf`.
    func encoded() -> (mcp_status, UnsafeMutablePointer<UInt8>?, Int) {
        switch self {
        case .failure(let status, let message):
            let (buffer, length) = mallocCopy(message)
            return (status, buffer, length)
        case .result(let result):
            switch result.storage {
            case .text(let text, let isError):
                let (buffer, length) = Self.callToolResult(text: text, structured: nil, isError: isError)
                return (MCP_STATUS_OK, buffer, length)
            case .structured(let json, let text):
                let (buffer, length) = Self.callToolResult(text: text, structured: json, isError: false)
                return (MCP_STATUS_OK, buffer, length)
            case .encodingFailed(let message):
                let (buffer, length) = mallocCopy(message)
                return (MCP_STATUS_INTERNAL_ERROR, buffer, length)
            }
        }
    }

    /// `{"content":[{"type":"text","text":"…"}],"structuredContent":{…},"isError":false}` written
    /// straight into one exactly-sized `malloc` buffer.
    static func callToolResult(text: String, structured: [UInt8]?, isError: Bool) -> (UnsafeMutablePointer<UInt8>, Int) {
        let head: StaticString = #"{"content":[{"type":"text","text":""#
        let afterText: StaticString = #""}]"#
        let structuredKey: StaticString = #","structuredContent":"#
        let tail: StaticString = isError ? #","isError":true}"# : #","isError":false}"#
        var text = text
        return text.withUTF8 { utf8 in
            var length = head.utf8CodeUnitCount + JSONText.escapedCount(utf8) + afterText.utf8CodeUnitCount + tail.utf8CodeUnitCount
            if let structured { length += structuredKey.utf8CodeUnitCount + structured.count }
            let out = malloc(length)!.assumingMemoryBound(to: UInt8.self)
            var o = 0
            func put(_ s: StaticString) {
                (out + o).update(from: s.utf8Start, count: s.utf8CodeUnitCount)
                o += s.utf8CodeUnitCount
            }
            put(head)
            o += JSONText.writeEscaped(utf8, to: out + o)
            put(afterText)
            if let structured {
                put(structuredKey)
                structured.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress {
                        (out + o).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
                    }
                }
                o += structured.count
            }
            put(tail)
            return (out, length)
        }
    }
}

/// The object behind an instance pointer handed to the host (`Unmanaged.passRetained`; released
/// by `destroy_instance`). It tracks the instance's running calls so `cancel` can find them.
class InstanceHandle: @unchecked Sendable {
    // @unchecked: subclasses add only immutable state; `running` is behind its lock.
    struct Running {
        let state: CallState
        var task: Task<Void, Never>?
    }
    let running = Locked<[UInt64: Running]>([:])

    func start(_ call: UnsafePointer<mcp_call>) {
        fatalError("InstanceHandle.start is abstract")
    }

    /// Cancels one running call; an unknown (e.g. already completed) id is ignored.
    func cancel(_ callID: UInt64) {
        let task = running.withLock { running -> Task<Void, Never>? in
            guard let entry = running[callID] else { return nil }
            entry.state.cancelRequested.store(true, ordering: .relaxed)
            return entry.task  // nil while the task is being created: `start` cancels it then
        }
        task?.cancel()
    }

    func cancelAll() {
        let tasks = running.withLock { running in
            running.values.compactMap { entry -> Task<Void, Never>? in
                entry.state.cancelRequested.store(true, ordering: .relaxed)
                return entry.task
            }
        }
        for task in tasks { task.cancel() }
    }

    /// Registers a call before its task exists, so a cancel arriving at any moment is seen.
    func register(_ state: CallState) {
        running.withLock { $0[state.callID] = Running(state: state, task: nil) }
    }

    /// Attaches the task (unless the call already finished) and cancels it if a cancel came first.
    func attach(_ task: Task<Void, Never>, to state: CallState) {
        let cancelNow = running.withLock { running -> Bool in
            guard running[state.callID] != nil else { return false }
            running[state.callID]!.task = task
            return state.cancelRequested.load(ordering: .relaxed)
        }
        if cancelNow { task.cancel() }
    }

    func unregister(_ callID: UInt64) {
        running.withLock { _ = $0.removeValue(forKey: callID) }
    }
}

final class PluginInstance<Plugin: MCPPlugin>: InstanceHandle, @unchecked Sendable {
    let plugin: Plugin
    let toolNames: Set<String>

    init(plugin: Plugin, toolNames: Set<String>) {
        self.plugin = plugin
        self.toolNames = toolNames
    }

    override func start(_ call: UnsafePointer<mcp_call>) {
        guard let completion = call.pointee.completion else { return }  // nobody to tell
        let state = CallState(call, completion: completion)
        let tool = String(decoding: UnsafeBufferPointer(start: call.pointee.tool, count: call.pointee.tool_len), as: UTF8.self)
        guard toolNames.contains(tool) else {
            state.complete(.failure(MCP_STATUS_UNKNOWN_TOOL, "unknown tool '\(tool)'"))
            return
        }
        let arguments: ToolArguments
        if let bytes = call.pointee.arguments, call.pointee.arguments_len > 0 {
            arguments = ToolArguments(json: Data(bytes: bytes, count: call.pointee.arguments_len))
        } else {
            arguments = ToolArguments(json: emptyObject)
        }
        register(state)
        let task = startTask { [self] in
            let outcome: CallOutcome
            do {
                outcome = .result(
                    try await CallScope.$current.withValue(state) {
                        let context = ToolContext(call: state)
                        guard Plugin.performsBlockingWork else {
                            return try await plugin.call(tool, arguments: arguments, context: context)
                        }
                        return try await withTaskExecutorPreference(BlockingWorkExecutor.shared) {
                            try await plugin.call(tool, arguments: arguments, context: context)
                        }
                    })
            } catch {
                outcome = CallOutcome(error)
            }
            unregister(state.callID)
            state.complete(outcome)
        }
        attach(task, to: state)
    }
}

private let emptyObject = Data("{}".utf8)

/// Starts a call's task. Where available the task starts *immediately* on the calling thread and
/// runs until its first suspension (a tool that finishes without suspending, like echo, completes
/// inside `call` without a thread hop); it continues on the global executor after that.
@inline(__always)
private func startTask(_ body: sending @escaping @isolated(any) () async -> Void) -> Task<Void, Never> {
    #if compiler(>=6.2)
    return Task.immediate(operation: body)
    #else
    return Task(operation: body)
    #endif
}
