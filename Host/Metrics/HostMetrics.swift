import MCPHostCore
import NIOConcurrencyHelpers
import Prometheus

/// Request and tool-call metrics in the Prometheus exposition format (swift-prometheus), labelled
/// by tenant id — the configured id, or `pt-<hash>` for pass-through tenants — never by a key.
/// Label values come only from bounded sets: tenant ids that passed the gate, tool names of the
/// tenant's catalog, a fixed list of outcomes, HTTP status codes.
public final class PrometheusHostMetrics: HostMetricsRecorder {
    public let registry = PrometheusCollectorRegistry()

    private struct RequestKey: Hashable {
        var tenant: String
        var status: Int
    }
    private struct ToolKey: Hashable {
        var tenant: String
        var tool: String
        var outcome: ToolCallOutcome
    }
    private struct Instruments {
        var requests: [RequestKey: (Counter, DurationHistogram)] = [:]
        var tools: [ToolKey: (Counter, DurationHistogram)] = [:]
    }

    /// The registry caches instruments too, but behind a lookup keyed by label arrays; this table
    /// keyed by small structs keeps the per-request cost to one lock and one hash.
    private let instruments = NIOLockedValueBox(Instruments())
    private static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2),
        .seconds(10), .seconds(30),
    ]

    public init() {}

    public func recordRequest(tenant: String, status: Int, duration: Duration) {
        let key = RequestKey(tenant: tenant, status: status)
        let (counter, histogram) = instruments.withLockedValue { state in
            if let existing = state.requests[key] { return existing }
            let labels = [("tenant", tenant), ("status", String(status))]
            let made = (
                registry.makeCounter(
                    descriptor: .init(namespace: "mcphost", metricName: "http_requests", unitName: "total", helpText: "Requests to the MCP endpoint"), labels: labels),
                registry.makeDurationHistogram(
                    descriptor: .init(namespace: "mcphost", metricName: "http_request_duration", unitName: "seconds", helpText: "Time to the response head"),
                    labels: [("tenant", tenant)], buckets: Self.buckets)
            )
            state.requests[key] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }

    public func recordToolCall(tenant: String, tool: String, outcome: ToolCallOutcome, duration: Duration) {
        let key = ToolKey(tenant: tenant, tool: tool, outcome: outcome)
        let (counter, histogram) = instruments.withLockedValue { state in
            if let existing = state.tools[key] { return existing }
            let made = (
                registry.makeCounter(
                    descriptor: .init(namespace: "mcphost", metricName: "tool_calls", unitName: "total", helpText: "Tool calls by outcome"),
                    labels: [("tenant", tenant), ("tool", tool), ("outcome", outcome.rawValue)]),
                registry.makeDurationHistogram(
                    descriptor: .init(namespace: "mcphost", metricName: "tool_call_duration", unitName: "seconds", helpText: "Tool call time, plugin included"),
                    labels: [("tenant", tenant), ("tool", tool)], buckets: Self.buckets)
            )
            state.tools[key] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }

    /// `GET /metrics`.
    public func response(for request: HostRequest) -> HostResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return HostResponse.error(405, "use GET", headers: ["allow": "GET, HEAD"])
        }
        return HostResponse(
            status: 200, headers: ["content-type": "text/plain; version=0.0.4; charset=utf-8"],
            body: .bytes(registry.emitToBuffer()))
    }
}
