import Logging
import MCPConfig
import MCPFronts
import MCPHostCore
import MCPProtocol
import NIOConcurrencyHelpers
import NIOCore

/// Running the host as an AWS Lambda function: the same application, the Lambda front instead of
/// the HTTP listener. Plugins load once per cold start (when the application is built); a broken
/// configuration or plugin directory is reported through `init/error`.
extension HostApplication {
    /// Why a Lambda cold start failed, as reported to `init/error` and thrown to the caller.
    public struct LambdaInitFailure: Error, CustomStringConvertible, Sendable {
        public var report: LambdaErrorReport
        public var description: String { "\(report.errorType): \(report.errorMessage)" }
    }

    /// Builds the application for a Lambda cold start. On failure the cause goes to `init/error`
    /// (Lambda then stops this runtime) and is thrown.
    public static func startLambda(
        config: Result<HostConfig, Error>, executableDirectory: String, group: EventLoopGroup, client: LambdaRuntimeClient,
        logger: Logger
    ) async throws -> HostApplication {
        func fail(_ type: String, _ message: String) async -> LambdaInitFailure {
            let report = LambdaErrorReport(errorType: type, errorMessage: message)
            await LambdaRuntime.reportInitError(report, client: client, logger: logger)
            return LambdaInitFailure(report: report)
        }
        let loaded: HostConfig
        switch config {
        case .success(let config): loaded = config
        case .failure(let error): throw await fail("Runtime.InvalidConfiguration", "configuration: \(error)")
        }
        let app: HostApplication
        do {
            app = try HostApplication(config: loaded, executableDirectory: executableDirectory, group: group, logger: logger)
        } catch {
            throw await fail("Runtime.InitFailed", "\(error)")
        }
        let snapshot = app.plugins.snapshot
        if let refused = snapshot.statuses.first(where: { $0.file == app.plugins.path && $0.state == "failed" }) {
            try? await app.httpClient.shutdown()
            throw await fail("Runtime.PluginDirectoryRefused", "plugin directory \(app.plugins.path): \(refused.error ?? "refused")")
        }
        for status in snapshot.statuses where status.state == "failed" {
            logger.warning("plugin not served", metadata: ["file": "\(status.file)", "error": "\(status.error ?? "")"])
        }
        if (app.sessions as SessionStore) is InMemorySessionStore {
            logger.warning(
                "sessions are kept in this instance's memory: protocol revisions with sessions (2025-03-26 to 2025-11-25) need a shared session store once Lambda runs more than one instance; stateless 2026-07-28 needs none")
        }
        logger.info(
            "lambda runtime ready",
            metadata: [
                "plugins": "\(snapshot.images.map(\.name).joined(separator: ","))", "path": "\(loaded.server.path)",
            ])
        return app
    }

    /// Serves invocations from `client` until the Runtime API fails (thrown: the process exits and
    /// Lambda starts a fresh one) or the task is cancelled.
    ///
    /// `standaloneStreams`: whether `GET` on the MCP path opens the server-to-client event stream
    /// of a 2025-x session. On Lambda such a stream holds an instance until the invocation deadline
    /// and carries nothing a request's own answer stream does not, so by default it is refused
    /// with 405, which the MCP transport allows and clients handle.
    public func serveLambda(
        client: LambdaRuntimeClient, settings: LambdaRuntime.Settings = .init(), standaloneStreams: Bool = false
    ) async throws {
        let routes = LambdaRoutes(router: router, mcpPath: config.server.path, standaloneStreams: standaloneStreams)
        let runtime = LambdaRuntime(client: client, handler: routes, settings: settings, logger: logger)
        let sessions = self.sessions
        let idleTimeout = server.settings.sessionIdleTimeout
        let logger = self.logger
        // No background maintenance: Lambda freezes the process between invocations. Expired
        // sessions are swept after an invocation, at most every 30 s; the plugin directory is part
        // of the image and never changes, so it is not rescanned.
        let sweepInterval = min(Duration.seconds(30), idleTimeout)
        let lastSweep = NIOLockedValueBox(ContinuousClock.now)
        do {
            try await runtime.run {
                let due = lastSweep.withLockedValue { last in
                    guard ContinuousClock.now - last >= sweepInterval else { return false }
                    last = .now
                    return true
                }
                guard due else { return }
                let expired = sessions.expire(idleTimeout: idleTimeout)
                if expired > 0 { logger.info("sessions expired", metadata: ["count": "\(expired)"]) }
            }
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try? await httpClient.shutdown()
    }
}

/// The routes of the Lambda front: the HTTP front's, except for standalone event streams.
struct LambdaRoutes: HostRequestHandler {
    let router: HostRouter
    let mcpPath: String
    let standaloneStreams: Bool

    func handle(_ request: HostRequest) async -> HostResponse {
        if !standaloneStreams && request.method == "GET" && request.path == mcpPath {
            return HostResponse.error(
                405, "no standalone event stream on AWS Lambda: every answer streams on its own POST",
                headers: ["allow": "POST, DELETE"])
        }
        return await router.handle(request)
    }
}
