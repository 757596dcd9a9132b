/* Fixture: plugin `versioned` whose version is fixed at compile time, to test replace-in-place hot
 * reload: build it twice with different versions, copy each over the same path, and check that new
 * sessions see the new one.
 *
 *   cc -shared -fPIC -I SDK/Sources/CMCPPlugin/include -DPLUGIN_VERSION=\"2.0.0\" -o versioned.so versioned.c
 *
 * Tool `version` {} → text "versioned <PLUGIN_VERSION>". */
#include <stdlib.h>
#include <string.h>
#include "mcp_plugin.h"

#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "1.0.0"
#endif

static mcp_status init(const mcp_host_services *s, uint8_t **e, size_t *n) {
    (void)s; (void)e; (void)n;
    return MCP_STATUS_OK;
}

static uint8_t instance_byte;
static mcp_status create_instance(const uint8_t *c, size_t n, void *t, void **out, uint8_t **e, size_t *en) {
    (void)c; (void)n; (void)t; (void)e; (void)en;
    *out = &instance_byte;
    return MCP_STATUS_OK;
}
static void destroy_instance(void *i) { (void)i; }

static void complete(const mcp_call *c, mcp_status status, const char *text) {
    size_t len = strlen(text);
    uint8_t *buffer = malloc(len);
    if (buffer) memcpy(buffer, text, len);
    c->completion(c->call_context, status, buffer, buffer ? len : 0);
}

static void call(void *i, const mcp_call *c) {
    (void)i;
    if (c->tool_len == 7 && memcmp(c->tool, "version", 7) == 0)
        complete(c, MCP_STATUS_OK, "{\"content\":[{\"type\":\"text\",\"text\":\"versioned " PLUGIN_VERSION "\"}]}");
    else
        complete(c, MCP_STATUS_UNKNOWN_TOOL, "versioned has only the tool 'version'");
}
static void cancel(void *i, uint64_t id) { (void)i; (void)id; }
static void free_buf(void *b) { free(b); }

static const mcp_plugin_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "versioned",
    .version = PLUGIN_VERSION,
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = "{\"tools\":[{\"name\":\"version\",\"title\":\"Version\","
                     "\"description\":\"Tells which build of the plugin answered.\","
                     "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false},"
                     "\"annotations\":{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,"
                     "\"openWorldHint\":false}}],"
                     "\"configSchema\":{\"type\":\"object\",\"additionalProperties\":false}}",
    .init = init,
    .create_instance = create_instance,
    .destroy_instance = destroy_instance,
    .call = call,
    .cancel = cancel,
    .free_buf = free_buf,
};

__attribute__((visibility("default"))) const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
