/*
 * cecho — a complete MCPHost plugin in plain C: one tool, `echo`, that returns its `message`
 * argument as a text block. It shows the whole ABI without an SDK: the descriptor, the manifest,
 * instances, synchronous completion and plugin-owned result buffers.
 *
 * The host validates the arguments against inputSchema before calling, so they are a JSON object
 * whose `message` member is a string. The JSON string token of that member is already a valid JSON
 * string literal, so it is copied verbatim into the result — no unescaping, no re-escaping.
 */
#include "cecho.h"

#include <stdlib.h>
#include <string.h>

#define CECHO_EXPORT __attribute__((visibility("default")))

static const char manifest[] =
    "{\"tools\":[{\"name\":\"echo\",\"title\":\"Echo\","
    "\"description\":\"Returns the message unchanged.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}},"
    "\"required\":[\"message\"],\"additionalProperties\":false},"
    "\"annotations\":{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,"
    "\"openWorldHint\":false}}],"
    "\"configSchema\":{\"type\":\"object\",\"additionalProperties\":false}}";

/* ------------------------------------------------------------------ a tiny JSON scanner ---- */
/* Each function takes the position of a token's first byte and returns the position just after
 * the token, or NULL when the text is not what it should be (never reading past `end`). */

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const uint8_t *skip_string(const uint8_t *p, const uint8_t *end) {
    if (p >= end || *p != '"') return NULL;
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++; /* the escaped byte (for \uXXXX the hex digits are plain bytes) */
            if (p >= end) return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

static const uint8_t *skip_value(const uint8_t *p, const uint8_t *end) {
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    /* number, true, false, null */
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
    return p;
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Whether the string token [p, q) (quotes included) decodes to the ASCII `name`. Handles escapes,
 * so "mess\u0061ge" matches "message". */
static int key_equals(const uint8_t *p, const uint8_t *q, const char *name) {
    const uint8_t *s = p + 1, *stop = q - 1;
    size_t i = 0, n = strlen(name);
    while (s < stop) {
        unsigned c = *s++;
        if (c == '\\') {
            if (s >= stop) return 0;
            c = *s++;
            switch (c) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                if (stop - s < 4) return 0;
                int h0 = hex_value(s[0]), h1 = hex_value(s[1]), h2 = hex_value(s[2]), h3 = hex_value(s[3]);
                if (h0 < 0 || h1 < 0 || h2 < 0 || h3 < 0) return 0;
                c = (unsigned)((h0 << 12) | (h1 << 8) | (h2 << 4) | h3);
                s += 4;
                if (c > 0x7F) return 0; /* names we look for are ASCII */
                break;
            }
            default: break; /* \" \\ \/ stand for themselves */
            }
        }
        if (i >= n || (unsigned char)name[i] != c) return 0;
        i++;
    }
    return i == n;
}

/* Finds the string member `name` of the top-level object in [json, end). Returns 1 and the raw
 * string token (quotes included) in [*start, *stop), 0 when absent or not a string. A repeated
 * member counts by its last occurrence, as most JSON parsers do. */
static int find_string_member(const uint8_t *json, size_t len, const char *name, const uint8_t **start,
                              const uint8_t **stop) {
    const uint8_t *end = json + len, *p = skip_ws(json, end);
    int found = 0;
    if (p >= end || *p != '{') return 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') return 0;
    while (p && p < end) {
        const uint8_t *key = p, *key_end = skip_string(p, end);
        if (!key_end) return found;
        p = skip_ws(key_end, end);
        if (p >= end || *p != ':') return found;
        p = skip_ws(p + 1, end);
        const uint8_t *value = p, *value_end = skip_value(p, end);
        if (!value_end) return found;
        if (key_equals(key, key_end, name)) {
            found = *value == '"';
            if (found) {
                *start = value;
                *stop = value_end;
            }
        }
        p = skip_ws(value_end, end);
        if (p >= end || *p != ',') return found;
        p = skip_ws(p + 1, end);
    }
    return found;
}

/* ------------------------------------------------------------------ the ABI --------------- */

static void complete_text(const mcp_call *call, mcp_status status, const char *text) {
    size_t len = strlen(text);
    uint8_t *buffer = malloc(len ? len : 1);
    if (buffer) memcpy(buffer, text, len);
    call->completion(call->call_context, status, buffer, buffer ? len : 0);
}

static mcp_status cecho_init(const mcp_host_services *services, uint8_t **out_error, size_t *out_error_len) {
    (void)services;
    (void)out_error;
    (void)out_error_len;
    return MCP_STATUS_OK;
}

/* The plugin keeps no per-tenant state; every instance is this one byte. */
static uint8_t cecho_instance;

static mcp_status cecho_create_instance(const uint8_t *config_json, size_t config_len, void *instance_token,
                                        void **out_instance, uint8_t **out_error, size_t *out_error_len) {
    (void)config_json;
    (void)config_len;
    (void)instance_token;
    (void)out_error;
    (void)out_error_len;
    *out_instance = &cecho_instance;
    return MCP_STATUS_OK;
}

static void cecho_destroy_instance(void *instance) { (void)instance; }

static void cecho_call(void *instance, const mcp_call *call) {
    static const char head[] = "{\"content\":[{\"type\":\"text\",\"text\":";
    static const char tail[] = "}]}";
    const uint8_t *start, *stop;
    (void)instance;
    if (call->tool_len != 4 || memcmp(call->tool, "echo", 4) != 0) {
        complete_text(call, MCP_STATUS_UNKNOWN_TOOL, "cecho has only the tool 'echo'");
        return;
    }
    if (!call->arguments || !find_string_member(call->arguments, call->arguments_len, "message", &start, &stop)) {
        complete_text(call, MCP_STATUS_INVALID_ARGUMENTS, "missing required argument 'message' (a string)");
        return;
    }
    size_t token = (size_t)(stop - start), len = sizeof head - 1 + token + sizeof tail - 1;
    uint8_t *out = malloc(len);
    if (!out) {
        call->completion(call->call_context, MCP_STATUS_INTERNAL_ERROR, NULL, 0);
        return;
    }
    memcpy(out, head, sizeof head - 1);
    memcpy(out + sizeof head - 1, start, token);
    memcpy(out + sizeof head - 1 + token, tail, sizeof tail - 1);
    call->completion(call->call_context, MCP_STATUS_OK, out, len);
}

/* Calls complete before call() returns, so there is never anything to cancel. */
static void cecho_cancel(void *instance, uint64_t call_id) {
    (void)instance;
    (void)call_id;
}

static void cecho_free_buf(void *buffer) { free(buffer); }

static const mcp_plugin_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "cecho",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = manifest,
    .init = cecho_init,
    .create_instance = cecho_create_instance,
    .destroy_instance = cecho_destroy_instance,
    .call = cecho_call,
    .cancel = cecho_cancel,
    .free_buf = cecho_free_buf,
};

CECHO_EXPORT const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
