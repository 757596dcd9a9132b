/* Fixture: a descriptor whose struct_size is smaller than the ABI's mcp_plugin_descriptor (as if
 * built against an older, shorter revision of ABI v1). The host must refuse it after reading only
 * abi_version and struct_size. The object really is that short, so a host that reads further reads
 * past it (AddressSanitizer reports a global-buffer-overflow). */
#include <stddef.h>
#include "mcp_plugin.h"

/* The leading fields of mcp_plugin_descriptor, nothing after manifest_json. */
typedef struct short_descriptor {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
    const char *version;
    const char *sdk_id;
    const char *manifest_json;
} short_descriptor;

static const short_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = (uint32_t)sizeof(short_descriptor),
    .name = "short_struct",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = "{\"tools\":[],\"configSchema\":{\"type\":\"object\"}}",
};

_Static_assert(sizeof(short_descriptor) < sizeof(mcp_plugin_descriptor), "must be shorter than the ABI's");

__attribute__((visibility("default"))) const mcp_plugin_descriptor *mcp_plugin_entry(void) {
    return (const mcp_plugin_descriptor *)(const void *)&descriptor;
}
