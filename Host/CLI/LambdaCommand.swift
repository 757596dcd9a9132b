import ArgumentParser
import MCPConfig
import MCPFronts
import MCPHostApp
import NIOPosix
import Synchronization

/// `mcp-host lambda`: the AWS Lambda Runtime API loop. It is also what `mcp-host` runs with no
/// subcommand when `AWS_LAMBDA_RUNTIME_API` is set (the Lambda container image case).
struct LambdaCommand: HostingCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda",
        abstract: "Serve MCP as an AWS Lambda function (Function URL, API Gateway HTTP and REST API events).",
        discussion: """
            Reads invocations from the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API (host:port). A broken \
            configuration or plugin directory is reported through init/error.
            """)

    @OptionGroup var options: HostOptions

    @Option(help: "Runtime API address host:port (default: $AWS_LAMBDA_RUNTIME_API).")
    var runtimeAPI: String?

    @Option(
        help: ArgumentHelp(
            "auto: stream Function URL answers (InvokeMode RESPONSE_STREAM), buffer API Gateway ones; buffered; streaming. "
                + "Default: $MCPHOST_LAMBDA_RESPONSE_MODE or auto.",
            valueName: "mode"))
    var responseMode: String?

    @Flag(
        help: "Let GET on the MCP path open a session's event stream (it holds the instance until the invocation deadline).")
    var standaloneStreams = false

    var config: HostConfig?

    enum CodingKeys: CodingKey { case options, runtimeAPI, responseMode, standaloneStreams }

    /// The outcome of loading the configuration, kept for `run()`: a broken configuration must
    /// reach `init/error` instead of ending the process before the runtime loop starts.
    private static let loaded = Mutex<Result<HostConfig, ConfigError>?>(nil)

    /// Never throws: `main` sizes the event-loop group from what this returns (defaults when the
    /// configuration is broken), and `run()` reports the failure.
    func loadConfig() -> HostConfig {
        let result = Self.loadResult(options: options)
        Self.loaded.withLock { $0 = result }
        return (try? result.get()) ?? HostConfig()
    }

    static func loadResult(options: HostOptions) -> Result<HostConfig, ConfigError> {
        do throws(ConfigError) { return .success(try options.loadConfig()) } catch { return .failure(error) }
    }

    func validate() throws {
        if let responseMode, LambdaRuntime.ResponseMode(rawValue: responseMode) == nil {
            throw ValidationError("--response-mode must be one of auto, buffered, streaming (got \(responseMode))")
        }
    }

    func run() async throws {
        let env = environment()
        guard let endpoint = runtimeAPI ?? env["AWS_LAMBDA_RUNTIME_API"], !endpoint.isEmpty else {
            throw ValidationError("AWS_LAMBDA_RUNTIME_API is not set and --runtime-api was not given")
        }
        let modeName = responseMode ?? env["MCPHOST_LAMBDA_RESPONSE_MODE"] ?? "auto"
        guard let mode = LambdaRuntime.ResponseMode(rawValue: modeName) else {
            throw ValidationError("MCPHOST_LAMBDA_RESPONSE_MODE must be one of auto, buffered, streaming (got \(modeName))")
        }
        let result = Self.loaded.withLock { $0 } ?? Self.loadResult(options: options)
        let logger = makeLogger(level: (try? result.get())?.logging.level ?? "info")
        let group = MultiThreadedEventLoopGroup.singleton
        let client = try LambdaRuntimeHTTPClient(endpoint: endpoint, group: group)
        let app = try await HostApplication.startLambda(
            config: result.mapError { $0 as Error }, executableDirectory: executableDirectory(), group: group, client: client,
            logger: logger)
        var settings = LambdaRuntime.Settings()
        settings.responseMode = mode
        do {
            try await app.serveLambda(client: client, settings: settings, standaloneStreams: standaloneStreams)
        } catch {
            logger.critical("lambda runtime stopped", metadata: ["error": "\(error)"])
            await client.close()
            throw error
        }
        await client.close()
    }
}
