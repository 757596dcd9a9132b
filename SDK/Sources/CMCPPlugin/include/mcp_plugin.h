/*
 * mcp_plugin.h — MCPHost plugin ABI, version 1.
 *
 * This header is the entire contract between the MCPHost process and a tool plugin loaded with
 * dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE). Nothing else crosses the boundary: no Swift types,
 * no NIO types, no allocator. A plugin may be written in any language that can export a C symbol.
 *
 * Lifecycle
 *   1. The host dlsym()s MCP_PLUGIN_ENTRY_SYMBOL and calls it once. It returns a pointer to a
 *      descriptor with static lifetime. The host compares abi_version (must equal
 *      MCP_PLUGIN_ABI_VERSION) and struct_size (must be >= the size the host knows), then reads the
 *      remaining fields. Growth is append-only: a later ABI revision adds fields at the end.
 *   2. The host calls init() once with its services table. The table stays valid for the life of
 *      the process.
 *   3. For every tenant that enables the plugin the host calls create_instance() with that
 *      tenant's configuration (JSON). An instance holds that tenant's settings and credentials
 *      only; the host never lends an instance to another tenant.
 *   4. call() runs a tool asynchronously; the plugin reports the outcome exactly once through the
 *      completion callback, from any thread, before or after call() returns. cancel() asks it to
 *      stop early (it still completes, with MCP_STATUS_CANCELLED or a normal result).
 *   5. destroy_instance() when the tenant is evicted. The host waits for the instance's calls to
 *      complete (or to be abandoned after their deadline) before destroying it.
 *   The library is never unloaded (a Swift image cannot be dlclose()d safely).
 *
 * Buffers
 *   Buffers the host passes in are valid only for the duration of the function they are passed to
 *   (copy what you keep). Buffers the plugin hands to the host (out_error, completion result) are
 *   plugin-owned: the host releases each exactly once with free_buf(). JSON is UTF-8, not
 *   NUL-terminated unless stated; lengths are in bytes.
 *
 * Threads
 *   Every function of the descriptor may be called from any thread and concurrently, except init
 *   (once, before anything else). Host service functions may be called from any thread.
 */
#ifndef MCP_PLUGIN_H
#define MCP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCP_PLUGIN_ABI_VERSION 1u
/* The one symbol a plugin exports: `const mcp_plugin_descriptor *mcp_plugin_entry(void);` */
#define MCP_PLUGIN_ENTRY_SYMBOL "mcp_plugin_entry"
/* sdk_id prefix of plugins that need no language runtime from the host (C, C++ without RTTI
 * across the boundary, Rust with panic=abort...). Swift plugins put their toolchain id here
 * ("swift-6.3.1 ...") and must match the host's own toolchain. */
#define MCP_PLUGIN_SDK_ID_C "c"

/* ---------------------------------------------------------------- status codes ------------- */
typedef int32_t mcp_status;
/* The result buffer is a JSON object: an MCP CallToolResult
 * ({"content":[...], "structuredContent":{...}?, "isError":bool?}). */
#define MCP_STATUS_OK 0
/* The tool failed in a way the model should see (bad upstream answer, not found, ...).
 * The result buffer is a UTF-8 message; the host returns it as an isError:true result. */
#define MCP_STATUS_TOOL_ERROR 1
/* The arguments were unacceptable beyond what inputSchema expresses. UTF-8 message;
 * returned to the client as an isError:true result naming the problem. */
#define MCP_STATUS_INVALID_ARGUMENTS 2
/* The tool name is not one of the manifest's. UTF-8 message. */
#define MCP_STATUS_UNKNOWN_TOOL 3
/* The call stopped because cancel() was called. The buffer may be empty. */
#define MCP_STATUS_CANCELLED 4
/* A bug or broken invariant in the plugin. UTF-8 message; the host answers with a JSON-RPC
 * internal error and logs the message. */
#define MCP_STATUS_INTERNAL_ERROR 5

/* ---------------------------------------------------------------- log levels --------------- */
/* RFC 5424 severities, as MCP logging uses them. */
typedef enum mcp_log_level {
    MCP_LOG_DEBUG = 0,
    MCP_LOG_INFO = 1,
    MCP_LOG_NOTICE = 2,
    MCP_LOG_WARNING = 3,
    MCP_LOG_ERROR = 4,
    MCP_LOG_CRITICAL = 5,
    MCP_LOG_ALERT = 6,
    MCP_LOG_EMERGENCY = 7
} mcp_log_level;

/* ---------------------------------------------------------------- host services ------------ */
/*
 * Completion of an outbound HTTP request made through the host.
 *   status      HTTP status code, or 0 when no response was received (then `error` says why:
 *               "timeout", "connect: ...", "egress denied: host x is not in this tenant's
 *               allow-list", "cancelled", ...).
 *   head_json   {"headers": [["name","value"], ...]} of the response (lower-case names), or empty.
 *   body        response body bytes (bounded by the request's max_response_bytes).
 *   error       UTF-8 error text when status == 0, else empty.
 * All buffers are host-owned and valid only during the callback.
 */
typedef void (*mcp_http_completion_fn)(void *user_data, int32_t status,
                                       const uint8_t *head_json, size_t head_len,
                                       const uint8_t *body, size_t body_len,
                                       const uint8_t *error, size_t error_len);

typedef struct mcp_host_services {
    uint32_t abi_version; /* MCP_PLUGIN_ABI_VERSION of the host */
    uint32_t struct_size; /* sizeof(mcp_host_services) as the host was compiled */
    void *host_context;   /* pass back as the first argument of every service below */

    /* Log a line through the host's logger. `instance_token` is the token given to
     * create_instance (or NULL from init); the host adds plugin, tenant id and request id. */
    void (*log)(void *host_context, void *instance_token, mcp_log_level level,
                const uint8_t *message, size_t message_len);

    /* Wall clock, milliseconds since the Unix epoch. */
    int64_t (*now_unix_ms)(void *host_context);
    /* Monotonic clock, nanoseconds from an arbitrary origin. */
    uint64_t (*monotonic_ns)(void *host_context);

    /*
     * Start an HTTP request on the host's client. Returns a request id (> 0) usable with
     * http_cancel, or 0 when the request was rejected at once (completion is still called,
     * exactly once, possibly before this function returns).
     *   request_json {"method":"GET","url":"https://...","headers":[["name","value"],...],
     *                 "timeout_ms":15000,"max_response_bytes":16777216}
     * The host enforces the calling instance's tenant egress allow-list, a timeout (timeout_ms,
     * capped by the host's maximum; pass the remaining time of your tool call's deadline or less)
     * and a response size cap (max_response_bytes, capped likewise). Only http and https URLs.
     */
    uint64_t (*http_request)(void *host_context, void *instance_token,
                             const uint8_t *request_json, size_t request_len,
                             const uint8_t *body, size_t body_len,
                             mcp_http_completion_fn completion, void *user_data);
    void (*http_cancel)(void *host_context, uint64_t request_id);
} mcp_host_services;

/* ---------------------------------------------------------------- tool calls --------------- */
/*
 * Completion of a tool call. Called exactly once per call().
 * `result` is plugin-owned (or NULL with len 0); the host releases it with free_buf().
 */
typedef void (*mcp_call_completion_fn)(void *call_context, mcp_status status,
                                       uint8_t *result, size_t result_len);

/*
 * Progress of a running call. `total` < 0 means unknown. `message` may be NULL. Buffers are
 * plugin-owned and only read during the callback. Values must increase from call to call; the
 * host drops a report that does not. Ignored when the client asked for no progress.
 */
typedef void (*mcp_call_progress_fn)(void *call_context, double progress, double total,
                                     const uint8_t *message, size_t message_len);

typedef struct mcp_call {
    uint64_t call_id;            /* unique within the instance; argument of cancel() */
    const uint8_t *tool;         /* tool name as in the manifest (not namespaced) */
    size_t tool_len;
    const uint8_t *arguments;    /* JSON object, already validated against inputSchema */
    size_t arguments_len;
    /* JSON object {"tenant":"<tenant id>","request_id":"<id>","progress_token":<any|null>,
     * "deadline_unix_ms":<int>} */
    const uint8_t *context_json;
    size_t context_len;
    void *call_context;          /* pass back to completion and progress */
    mcp_call_completion_fn completion;
    mcp_call_progress_fn progress;
} mcp_call;

/* ---------------------------------------------------------------- descriptor --------------- */
typedef struct mcp_plugin_descriptor {
    uint32_t abi_version; /* MCP_PLUGIN_ABI_VERSION the plugin was built against */
    uint32_t struct_size; /* sizeof(mcp_plugin_descriptor) as the plugin was compiled */
    const char *name;     /* NUL-terminated, [a-z0-9_-]{1,64}; tool namespace, e.g. "prometheus" */
    const char *version;  /* NUL-terminated semantic version of the plugin */
    const char *sdk_id;   /* NUL-terminated: MCP_PLUGIN_SDK_ID_C, or the Swift toolchain id */
    /*
     * NUL-terminated JSON, static lifetime:
     * {"tools":[{"name","title","description","inputSchema",
     *            "outputSchema"?,"annotations"?{readOnlyHint,destructiveHint,idempotentHint,
     *                                           openWorldHint}}],
     *  "configSchema":{JSON Schema of the per-tenant configuration object},
     *  "credentialHeaders"?:[{"header":"x-tiflux-api-key","configKey":"api_key"}]}
     */
    const char *manifest_json;

    /* Called once after loading. Return MCP_STATUS_OK, or an error with a plugin-owned message
     * in *out_error (released with free_buf). */
    mcp_status (*init)(const mcp_host_services *services, uint8_t **out_error, size_t *out_error_len);

    /* Build an instance for one tenant. `config_json` conforms to configSchema (checked by the
     * host). `instance_token` identifies the instance to host services. */
    mcp_status (*create_instance)(const uint8_t *config_json, size_t config_len, void *instance_token,
                                  void **out_instance, uint8_t **out_error, size_t *out_error_len);
    void (*destroy_instance)(void *instance);

    void (*call)(void *instance, const mcp_call *call);
    void (*cancel)(void *instance, uint64_t call_id);

    void (*free_buf)(void *buffer);
} mcp_plugin_descriptor;

typedef const mcp_plugin_descriptor *(*mcp_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* MCP_PLUGIN_H */
