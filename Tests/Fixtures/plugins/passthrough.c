/* Fixture: plugin `vault` whose upstream credential arrives as a pass-through header. Its manifest
 * declares `credentialHeaders: [{"header": "x-vault-key", "configKey": "api_key"}]`; each instance
 * keeps a copy of the configuration it was created with.
 *
 * The key must match ^[A-Za-z0-9-]+$ (so a test can make the host refuse a key and check that the
 * refusal does not quote it).
 *
 * Tool `config` {} → structuredContent: the configuration this instance holds (so tests can check
 * that an instance sees its own tenant's key and nothing else). */
#include <stdlib.h>
#include <string.h>
#include "mcp_plugin.h"

typedef struct {
    size_t len;
    uint8_t json[];
} instance;

static mcp_status init(const mcp_host_services *s, uint8_t **e, size_t *n) {
    (void)s; (void)e; (void)n;
    return MCP_STATUS_OK;
}

static mcp_status create_instance(const uint8_t *c, size_t n, void *t, void **out, uint8_t **e, size_t *en) {
    (void)t; (void)e; (void)en;
    instance *i = malloc(sizeof(instance) + n);
    if (!i) return MCP_STATUS_INTERNAL_ERROR;
    i->len = n;
    memcpy(i->json, c, n);
    *out = i;
    return MCP_STATUS_OK;
}

static void destroy_instance(void *i) { free(i); }

static void call(void *p, const mcp_call *c) {
    const instance *i = p;
    if (c->tool_len == 6 && memcmp(c->tool, "config", 6) == 0) {
        static const char head[] = "{\"content\":[{\"type\":\"text\",\"text\":\"configuration\"}],\"structuredContent\":";
        size_t len = sizeof(head) - 1 + i->len + 1;
        uint8_t *buffer = malloc(len);
        if (!buffer) {
            c->completion(c->call_context, MCP_STATUS_INTERNAL_ERROR, NULL, 0);
            return;
        }
        memcpy(buffer, head, sizeof(head) - 1);
        memcpy(buffer + sizeof(head) - 1, i->json, i->len);
        buffer[len - 1] = '}';
        c->completion(c->call_context, MCP_STATUS_OK, buffer, len);
    } else {
        static const char message[] = "vault has only the tool 'config'";
        uint8_t *buffer = malloc(sizeof(message) - 1);
        if (buffer) memcpy(buffer, message, sizeof(message) - 1);
        c->completion(c->call_context, MCP_STATUS_UNKNOWN_TOOL, buffer, buffer ? sizeof(message) - 1 : 0);
    }
}
static void cancel(void *i, uint64_t id) { (void)i; (void)id; }
static void free_buf(void *b) { free(b); }

static const mcp_plugin_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "vault",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = "{\"tools\":[{\"name\":\"config\",\"title\":\"Configuration\","
                     "\"description\":\"Returns the configuration this instance was created with.\","
                     "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false}}],"
                     "\"configSchema\":{\"type\":\"object\",\"properties\":{\"api_key\":{\"type\":\"string\","
                     "\"pattern\":\"^[A-Za-z0-9-]+$\"},"
                     "\"region\":{\"type\":\"string\"}},\"required\":[\"api_key\"],\"additionalProperties\":false},"
                     "\"credentialHeaders\":[{\"header\":\"X-Vault-Key\",\"configKey\":\"api_key\"}]}",
    .init = init,
    .create_instance = create_instance,
    .destroy_instance = destroy_instance,
    .call = call,
    .cancel = cancel,
    .free_buf = free_buf,
};

__attribute__((visibility("default"))) const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
