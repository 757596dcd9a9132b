/* Fixture: plugin `probe`, which makes one outbound GET through the host's HTTP service, so tests
 * can check the tenant's egress allow-list. (A real plugin never takes a URL from the client; this
 * one does so that a test can aim it anywhere.)
 *
 * Tool `fetch` {"url": "http://...", "timeout_ms"?: n} → text "status <code>", or a tool error carrying the host's
 * refusal ("egress denied: host x is not in this tenant's allow-list", ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mcp_plugin.h"

static const mcp_host_services *services;

static mcp_status init(const mcp_host_services *s, uint8_t **e, size_t *n) {
    (void)e; (void)n;
    services = s;
    return MCP_STATUS_OK;
}

typedef struct { void *token; } instance;

static mcp_status create_instance(const uint8_t *c, size_t n, void *t, void **out, uint8_t **e, size_t *en) {
    (void)c; (void)n; (void)e; (void)en;
    instance *i = malloc(sizeof(instance));
    if (!i) return MCP_STATUS_INTERNAL_ERROR;
    i->token = t;
    *out = i;
    return MCP_STATUS_OK;
}

static void destroy_instance(void *i) { free(i); }

typedef struct {
    void *call_context;
    mcp_call_completion_fn completion;
} pending;

static void complete_bytes(const pending *p, mcp_status status, const char *text, size_t len) {
    uint8_t *buffer = malloc(len ? len : 1);
    if (buffer) memcpy(buffer, text, len);
    p->completion(p->call_context, status, buffer, buffer ? len : 0);
}

static void fetched(void *user_data, int32_t status, const uint8_t *head, size_t head_len, const uint8_t *body,
                    size_t body_len, const uint8_t *error, size_t error_len) {
    (void)head; (void)head_len; (void)body; (void)body_len;
    pending *p = user_data;
    if (status > 0) {
        char text[96];
        int len = snprintf(text, sizeof(text), "{\"content\":[{\"type\":\"text\",\"text\":\"status %d\"}]}", (int)status);
        complete_bytes(p, MCP_STATUS_OK, text, (size_t)len);
    } else {
        complete_bytes(p, MCP_STATUS_TOOL_ERROR, (const char *)error, error_len);
    }
    free(p);
}

static void call(void *opaque, const mcp_call *c) {
    instance *i = opaque;
    pending *p = malloc(sizeof(pending));
    if (!p) {
        c->completion(c->call_context, MCP_STATUS_INTERNAL_ERROR, NULL, 0);
        return;
    }
    p->call_context = c->call_context;
    p->completion = c->completion;
    if (!(c->tool_len == 5 && memcmp(c->tool, "fetch", 5) == 0)) {
        static const char message[] = "probe has only the tool 'fetch'";
        complete_bytes(p, MCP_STATUS_UNKNOWN_TOOL, message, sizeof(message) - 1);
        free(p);
        return;
    }
    /* The validated arguments {"url": "...", "timeout_ms"?: n} are a valid request (method GET). */
    services->http_request(services->host_context, i->token, c->arguments, c->arguments_len, NULL, 0, fetched, p);
}

static void cancel(void *i, uint64_t id) { (void)i; (void)id; }
static void free_buf(void *b) { free(b); }

static const mcp_plugin_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "probe",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = "{\"tools\":[{\"name\":\"fetch\",\"title\":\"Fetch\","
                     "\"description\":\"GETs a URL through the host and tells the status.\","
                     "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"},"
                     "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1}},"
                     "\"required\":[\"url\"],\"additionalProperties\":false}}],"
                     "\"configSchema\":{\"type\":\"object\",\"additionalProperties\":false}}",
    .init = init,
    .create_instance = create_instance,
    .destroy_instance = destroy_instance,
    .call = call,
    .cancel = cancel,
    .free_buf = free_buf,
};

__attribute__((visibility("default"))) const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
