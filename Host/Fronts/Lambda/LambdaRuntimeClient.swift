import MCPJSON

/// One invocation as `GET /2018-06-01/runtime/invocation/next` hands it out.
public struct LambdaInvocation: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public var requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: when Lambda stops the invocation, in Unix epoch milliseconds.
    public var deadlineUnixMs: Int64?
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public var invokedFunctionARN: String?
    /// `Lambda-Runtime-Trace-Id`.
    public var traceID: String?
    /// The event (JSON).
    public var event: [UInt8]

    public init(
        requestID: String, deadlineUnixMs: Int64?, invokedFunctionARN: String? = nil, traceID: String? = nil, event: [UInt8]
    ) {
        self.requestID = requestID
        self.deadlineUnixMs = deadlineUnixMs
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.event = event
    }
}

/// The error document of `invocation/{id}/error` and `init/error`.
public struct LambdaErrorReport: Sendable, Equatable {
    /// Also sent as `Lambda-Runtime-Function-Error-Type`.
    public var errorType: String
    public var errorMessage: String

    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    /// `{"errorMessage":..,"errorType":..,"stackTrace":[]}`.
    public var json: [UInt8] {
        JSONValue.object(["errorMessage": .string(errorMessage), "errorType": .string(errorType), "stackTrace": []])
            .serialized()
    }
}

/// The body of one streamed response (`Lambda-Runtime-Function-Response-Mode: streaming`).
/// Write chunks in order, then exactly one of `finish()` or `fail(_:)`.
public protocol LambdaResponseWriter: Sendable {
    func write(_ bytes: [UInt8]) async throws
    /// Ends the body; returns once the Runtime API accepted the response.
    func finish() async throws
    /// Ends the body with the error trailers (`Lambda-Runtime-Function-Error-Type`,
    /// `Lambda-Runtime-Function-Error-Body` = base64 of the error JSON).
    func fail(_ error: LambdaErrorReport) async throws
}

/// What the runtime loop needs from the Lambda Runtime API. The real one speaks HTTP/1.1 to
/// `AWS_LAMBDA_RUNTIME_API`; tests drive the loop with an in-memory one.
public protocol LambdaRuntimeClient: Sendable {
    /// Waits (indefinitely) for the next invocation.
    func next() async throws -> LambdaInvocation
    /// Posts a buffered response.
    func respond(requestID: String, payload: [UInt8]) async throws
    /// Starts a streamed response with this content type.
    func streamResponse(requestID: String, contentType: String) async throws -> LambdaResponseWriter
    /// Reports that the invocation failed.
    func error(requestID: String, _ error: LambdaErrorReport) async throws
    /// Reports that initialisation failed; Lambda then stops this runtime.
    func initError(_ error: LambdaErrorReport) async throws
}

/// The Runtime API refused something or failed; `status` is the HTTP status when there was one.
public struct LambdaRuntimeClientError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var status: Int?
    public var detail: String

    public init(operation: String, status: Int?, detail: String) {
        self.operation = operation
        self.status = status
        self.detail = detail
    }

    /// Per the Runtime API contract a 5xx means the runtime must exit.
    public var isFatal: Bool { status.map { $0 >= 500 } ?? true }

    public var description: String {
        "Lambda Runtime API \(operation): " + (status.map { "HTTP \($0): " } ?? "") + detail
    }
}
