import ArgumentParser
import Dispatch
import Logging
import MCPConfig
import MCPHostApp
import MCPHostCore
import MCPJSON
import MCPPlugins
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

// The event-loop group must be sized, and installed as Swift concurrency's global executor,
// before any task runs: then request tasks run on the event-loop threads with no thread hop
// (one thread per core, as DESIGN.md's measurements ask for). So `main` is synchronous: it
// parses the command, reads the configuration, sizes the group, and only then starts async work.
do {
    var command = try MCPHostCommand.parseAsRoot()
    if var hosting = command as? HostingCommand {
        let config = try hosting.loadConfig()
        NIOSingletons.groupLoopCountSuggestion = config.server.threads > 0 ? config.server.threads : System.coreCount
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        hosting.config = config
        command = hosting
    }
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome(command: command)
    Task.detached {
        var runnable = outcome.command
        do {
            if var async = runnable as? AsyncParsableCommand { try await async.run() } else { try runnable.run() }
        } catch { outcome.failure = error }
        done.signal()
    }
    done.wait()
    let failure = outcome.failure
    if let failure { MCPHostCommand.exit(withError: failure) }
} catch {
    MCPHostCommand.exit(withError: error)
}

/// Hands the parsed command to the task that runs it and the error back; the semaphore orders
/// the accesses.
final class Outcome: @unchecked Sendable {
    let command: ParsableCommand
    var failure: Error?
    init(command: ParsableCommand) { self.command = command }
}

struct MCPHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp-host",
        abstract: "Serves Model Context Protocol tools from plugin shared libraries.",
        version: HostApplication.version,
        subcommands: [Serve.self, Stdio.self, LambdaCommand.self, Plugins.self, ConfigCommand.self, KeysCommand.self],
        // Inside Lambda (a container image has no arguments to say so) the default is the runtime loop.
        defaultSubcommand: getenv("AWS_LAMBDA_RUNTIME_API") != nil ? LambdaCommand.self : Serve.self)
}

/// Options shared by the commands that run the host.
struct HostOptions: ParsableArguments {
    @Option(help: "Configuration file (YAML); default $MCPHOST_CONFIG. Without one, built-in defaults and MCPHOST_* variables apply.")
    var config: String?

    @Option(help: "Plugin directory (every *.so in it). Default: the bundled plugins next to the executable.")
    var plugins: String?

    /// The configuration file, then MCPHOST_* variables, then these options and `overrides` (the
    /// command's own flags, as MCPHOST_* names) — validated as one.
    func loadConfig(overrides: [String: String] = [:]) throws(ConfigError) -> HostConfig {
        var env = environment()
        if let plugins { env["MCPHOST_PLUGINS_DIRECTORY"] = plugins }
        env.merge(overrides) { $1 }
        return try ConfigLoader.load(path: config ?? env["MCPHOST_CONFIG"], environment: env)
    }
}

/// The host for `serve` and `stdio`: JSON logs on stderr, the shared event-loop group.
func makeApplication(_ config: HostConfig) throws -> HostApplication {
    try HostApplication(
        config: config, executableDirectory: executableDirectory(), group: MultiThreadedEventLoopGroup.singleton,
        logger: makeLogger(level: config.logging.level))
}

protocol HostingCommand: AsyncParsableCommand {
    var config: HostConfig? { get set }
    func loadConfig() throws -> HostConfig
}

func makeLogger(level: String, label: String = "mcp-host") -> Logger {
    let logLevel = Logger.Level(rawValue: level) ?? .info
    return Logger(label: label) { label in JSONLogHandler(label: label, level: logLevel) }
}

func executableDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return "." }
    let path = String(decoding: buffer[0..<count].map(UInt8.init(bitPattern:)), as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
}

func environment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}

struct Serve: HostingCommand {
    static let configuration = CommandConfiguration(abstract: "Serve MCP over Streamable HTTP.")

    @OptionGroup var options: HostOptions
    @Option(help: "Address to bind (overrides server.host).") var host: String?
    @Option(help: "Port to bind; 0 picks a free one (overrides server.port).") var port: Int?

    var config: HostConfig?

    enum CodingKeys: CodingKey { case options, host, port }

    func loadConfig() throws -> HostConfig {
        var overrides: [String: String] = [:]
        if let host { overrides["MCPHOST_SERVER_HOST"] = host }
        if let port { overrides["MCPHOST_SERVER_PORT"] = String(port) }
        return try options.loadConfig(overrides: overrides)
    }

    func run() async throws {
        try await makeApplication(try config ?? loadConfig()).serveHTTP()
    }
}

struct Stdio: HostingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve MCP on standard input/output (newline-delimited JSON-RPC) for local clients.")

    @OptionGroup var options: HostOptions
    var config: HostConfig?

    enum CodingKeys: CodingKey { case options }

    func loadConfig() throws -> HostConfig { try options.loadConfig() }

    func run() async throws {
        // stdout carries protocol messages only; logs go to stderr.
        await (try makeApplication(try config ?? loadConfig())).serveStdio()
    }
}

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with plugin files.", subcommands: [Inspect.self])

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load one plugin file, check it, and print its descriptor and manifest as JSON.")

        @Argument(help: "Path of the plugin .so") var file: String

        func run() async throws {
            do {
                print(try await HostApplication.inspectPlugin(path: file).prettyJSON)
            } catch let error as PluginLoadError {
                throw ValidationError(error.description)
            }
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with the configuration.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration (file + MCPHOST_* variables) without serving.")

        @Option(help: "Configuration file (YAML); default $MCPHOST_CONFIG.") var config: String?

        func run() throws {
            do {
                let env = environment()
                let loaded = try ConfigLoader.load(path: config ?? env["MCPHOST_CONFIG"], environment: env)
                print(
                    "\(loaded.source): OK — \(loaded.server.host):\(loaded.server.port)\(loaded.server.path), "
                        + "\(loaded.tenants.count) tenant(s), plugins from \(loaded.plugins.directory ?? "the bundled directory")")
            } catch {
                throw ValidationError(error.description)
            }
        }
    }
}
