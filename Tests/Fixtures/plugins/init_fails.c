/* Fixture: a well-formed plugin whose init() fails with the message "init failed on purpose".
 * The host must refuse it with that message and keep serving the other plugins. */
#include <stdlib.h>
#include <string.h>
#include "mcp_plugin.h"

static mcp_status init_fails(const mcp_host_services *services, uint8_t **out_error, size_t *out_error_len) {
    static const char message[] = "init failed on purpose";
    (void)services;
    *out_error = malloc(sizeof message - 1);
    if (*out_error) {
        memcpy(*out_error, message, sizeof message - 1);
        *out_error_len = sizeof message - 1;
    } else {
        *out_error_len = 0;
    }
    return MCP_STATUS_INTERNAL_ERROR;
}

static mcp_status create_instance(const uint8_t *c, size_t n, void *t, void **out, uint8_t **e, size_t *en) {
    (void)c; (void)n; (void)t; (void)e; (void)en;
    *out = NULL;
    return MCP_STATUS_INTERNAL_ERROR; /* never reached: init failed */
}
static void destroy_instance(void *i) { (void)i; }
static void call(void *i, const mcp_call *c) {
    (void)i;
    c->completion(c->call_context, MCP_STATUS_INTERNAL_ERROR, NULL, 0);
}
static void cancel(void *i, uint64_t id) { (void)i; (void)id; }
static void free_buf(void *b) { free(b); }

static const mcp_plugin_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "init_fails",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = "{\"tools\":[{\"name\":\"noop\",\"title\":\"noop\",\"description\":\"Never runs.\","
                     "\"inputSchema\":{\"type\":\"object\"}}],\"configSchema\":{\"type\":\"object\"}}",
    .init = init_fails,
    .create_instance = create_instance,
    .destroy_instance = destroy_instance,
    .call = call,
    .cancel = cancel,
    .free_buf = free_buf,
};

__attribute__((visibility("default"))) const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
