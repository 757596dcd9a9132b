/* Fixture: a plugin built for ABI version 999. The host must refuse it naming both versions
 * (999 and its own) and keep serving the other plugins. Nothing past struct_size is ever called. */
#include <stddef.h>
#include "mcp_plugin.h"

static mcp_status never_init(const mcp_host_services *s, uint8_t **e, size_t *n) {
    (void)s; (void)e; (void)n;
    return MCP_STATUS_INTERNAL_ERROR;
}

static const mcp_plugin_descriptor descriptor = {
    .abi_version = 999,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "abi_mismatch",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = "{\"tools\":[],\"configSchema\":{\"type\":\"object\"}}",
    .init = never_init,
};

__attribute__((visibility("default"))) const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
