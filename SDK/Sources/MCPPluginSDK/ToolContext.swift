internal import CMCPPlugin
import Synchronization

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

/// What the host tells a tool about the call it is running: tenant, request, deadline; and the
/// way back to the client for progress. Cheap to copy; the call context JSON is parsed the first
/// time one of its fields is read.
public struct ToolContext: Sendable {
    let call: CallState

    /// A context for calling a plugin's `call` directly in unit tests: no host behind it, progress
    /// reports are dropped.
    public init(tenant: String, requestID: String = "1", callID: UInt64 = 1, deadlineUnixMilliseconds: Int64? = nil) {
        var fields = CallContextFields()
        fields.tenant = tenant
        fields.requestID = requestID
        fields.deadlineUnixMilliseconds = deadlineUnixMilliseconds
        call = CallState(detached: callID, fields: fields)
    }

    init(call: CallState) {
        self.call = call
    }

    /// The host's id of this call (unique within the instance).
    public var callID: UInt64 { call.callID }
    /// The tenant the call runs for.
    public var tenant: String { call.fields.tenant }
    /// The JSON-RPC id of the request, as text.
    public var requestID: String { call.fields.requestID }
    /// Whether the client asked for progress notifications (reports are dropped otherwise).
    public var hasProgressToken: Bool { call.fields.hasProgressToken }
    /// When the host stops waiting for this call, in milliseconds since the Unix epoch.
    public var deadlineUnixMilliseconds: Int64? { call.fields.deadlineUnixMilliseconds }

    /// Whether the client cancelled the call. The call's task is cancelled too, so
    /// `Task.sleep`, `PluginHost.http` and `Task.checkCancellation()` notice on their own.
    public var isCancelled: Bool { call.cancelRequested.load(ordering: .relaxed) || Task.isCancelled }

    /// Reports progress to the client (`notifications/progress`). `progress` must increase from
    /// report to report; `total` is nil when unknown. Ignored after the call completed and when
    /// the client asked for no progress.
    public func reportProgress(_ progress: Double, total: Double? = nil, message: String? = nil) {
        call.reportProgress(progress, total: total, message: message)
    }
}

/// The call a task is running for, so host services can apply its deadline without the tool
/// passing its context along (child tasks inherit it).
enum CallScope {
    @TaskLocal static var current: CallState?
}

/// The fields of the call context JSON
/// `{"tenant":"…","request_id":"…","progress_token":<any|null>,"deadline_unix_ms":<int>}`.
struct CallContextFields: Decodable, Sendable {
    var tenant = ""
    var requestID = ""
    var hasProgressToken = false
    var deadlineUnixMilliseconds: Int64?

    init() {}

    enum CodingKeys: String, CodingKey {
        case tenant, request_id, progress_token, deadline_unix_ms
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tenant = (try? container.decodeIfPresent(String.self, forKey: .tenant)) ?? ""
        if let text = try? container.decodeIfPresent(String.self, forKey: .request_id) {
            requestID = text
        } else if let number = try? container.decodeIfPresent(Int64.self, forKey: .request_id) {
            requestID = String(number)
        }
        hasProgressToken = container.contains(.progress_token) && !((try? container.decodeNil(forKey: .progress_token)) ?? true)
        deadlineUnixMilliseconds = try? container.decodeIfPresent(Int64.self, forKey: .deadline_unix_ms)
    }
}

/// The plugin side of one call: the host's callbacks, the context JSON (parsed lazily) and whether
/// the call has completed (after which `call_context` must not be used).
final class CallState: @unchecked Sendable {
    // @unchecked: `callContext` is an opaque host pointer, valid until `complete`; `phase` guards
    // every use of it after the call returned.
    let callID: UInt64
    private let callContext: UnsafeMutableRawPointer?
    private let completion: mcp_call_completion_fn?
    private let progress: mcp_call_progress_fn?
    private let contextJSON: [UInt8]
    let cancelRequested = Atomic<Bool>(false)
    private let phase = Locked(Phase())

    struct Phase {
        var completed = false
        var fields: CallContextFields?
    }

    init(_ call: UnsafePointer<mcp_call>, completion: mcp_call_completion_fn) {
        let call = call.pointee
        callID = call.call_id
        callContext = call.call_context
        self.completion = completion
        progress = call.progress
        // Copied (the host's buffer dies when `call` returns) but parsed only if a field is read.
        if let context = call.context_json, call.context_len > 0 {
            contextJSON = Array(UnsafeBufferPointer(start: context, count: call.context_len))
        } else {
            contextJSON = []
        }
    }

    /// A call with no host behind it (unit tests of a plugin).
    init(detached callID: UInt64, fields: CallContextFields) {
        self.callID = callID
        callContext = nil
        completion = nil
        progress = nil
        contextJSON = []
        phase.withLock { $0.fields = fields }
    }

    var fields: CallContextFields {
        if let fields = phase.withLock({ $0.fields }) { return fields }
        let parsed =
            contextJSON.isEmpty
            ? CallContextFields() : ((try? sharedDecoder.decode(CallContextFields.self, from: Data(contextJSON))) ?? CallContextFields())
        phase.withLock { $0.fields = parsed }
        return parsed
    }

    func reportProgress(_ value: Double, total: Double?, message: String?) {
        guard let progress else { return }
        // The host callback runs under the lock so that `complete` cannot overtake it: after
        // completion `callContext` is the host's to free.
        phase.withLock { phase in
            guard !phase.completed else { return }
            if var message {
                message.withUTF8 { progress(callContext, value, total ?? -1, $0.baseAddress, $0.count) }
            } else {
                progress(callContext, value, total ?? -1, nil, 0)
            }
        }
    }

    /// Hands the outcome to the host. Called exactly once per call.
    func complete(_ status: mcp_status, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int) {
        phase.withLock { $0.completed = true }
        if let completion {
            completion(callContext, status, buffer, length)
        } else {
            free(buffer)
        }
    }

    func complete(_ outcome: CallOutcome) {
        let (status, buffer, length) = outcome.encoded()
        complete(status, buffer, length)
    }
}
