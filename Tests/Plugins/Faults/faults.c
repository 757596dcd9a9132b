/*
 * faults — an MCPHost test plugin (plain C, so it can return exactly the bytes a test needs).
 *
 *   tool_error      MCP_STATUS_TOOL_ERROR "tool failed on purpose"
 *   internal_error  MCP_STATUS_INTERNAL_ERROR "internal failure on purpose"
 *   hang            never completes until cancel(call_id) (or destroy_instance), then CANCELLED
 *   garbage         OK with a buffer that is not JSON
 *   bad_structured  OK with structuredContent {"n":"not a number"}; its outputSchema wants an integer
 *   wrong_shape     OK with [1,2,3]: valid JSON, not a CallToolResult
 *   slow {ms}       OK "slept <ms> ms" after ms milliseconds, completed from a detached thread
 */
#include "faults.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAULTS_EXPORT __attribute__((visibility("default")))

#define OBJECT_SCHEMA "{\"type\":\"object\"}"
#define ANNOTATIONS                                                                                       \
    "\"annotations\":{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,"           \
    "\"openWorldHint\":false}"
#define SIMPLE_TOOL(name, description)                                                                    \
    "{\"name\":\"" name "\",\"title\":\"" name "\",\"description\":\"" description "\","                  \
    "\"inputSchema\":" OBJECT_SCHEMA "," ANNOTATIONS "}"

static const char manifest[] =
    "{\"tools\":["
    SIMPLE_TOOL("tool_error", "Fails with a tool error.") ","
    SIMPLE_TOOL("internal_error", "Fails with an internal error.") ","
    SIMPLE_TOOL("hang", "Never completes unless cancelled.") ","
    SIMPLE_TOOL("garbage", "Answers with bytes that are not JSON.") ","
    "{\"name\":\"bad_structured\",\"title\":\"bad_structured\","
    "\"description\":\"Answers with structuredContent that violates its outputSchema.\","
    "\"inputSchema\":" OBJECT_SCHEMA ","
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]},"
    ANNOTATIONS "},"
    SIMPLE_TOOL("wrong_shape", "Answers with valid JSON that is not a CallToolResult.") ","
    "{\"name\":\"reply\",\"title\":\"reply\","
    "\"description\":\"Answers with result number `n` of a fixed table of edge-case CallToolResults.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0}},"
    "\"required\":[\"n\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]},"
    ANNOTATIONS "},"
    "{\"name\":\"slow\",\"title\":\"slow\",\"description\":\"Completes after `ms` milliseconds.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"ms\":{\"type\":\"integer\",\"minimum\":0,"
    "\"maximum\":600000}},\"required\":[\"ms\"]}," ANNOTATIONS "}"
    "],\"configSchema\":{\"type\":\"object\"}}";

/* What `reply` answers, by `n`: results whose members repeat, hold escapes or non-ASCII text, or
 * must be rewritten, so the host's checks are seen to treat each as JSON's last-wins rule and the
 * protocol revision say. The tests name the expected outcome of each. */
static const char *const replies[] = {
    /* 0: content repeated, the last one invalid */
    "{\"content\":[{\"type\":\"text\",\"text\":\"first\"}],\"content\":[{\"text\":\"no type\"}],\"structuredContent\":{\"n\":0}}",
    /* 1: content repeated, the last one valid */
    "{\"content\":[{\"text\":\"no type\"}],\"content\":[{\"type\":\"text\",\"text\":\"second\"}],\"structuredContent\":{\"n\":1}}",
    /* 2: a block's type repeated, the last one a string */
    "{\"content\":[{\"type\":1,\"type\":\"text\",\"text\":\"typed\"}],\"structuredContent\":{\"n\":2}}",
    /* 3: isError true then false: the structuredContent must match the schema, and does not */
    "{\"content\":[{\"type\":\"text\",\"text\":\"e\"}],\"isError\":true,\"isError\":false,\"structuredContent\":{\"n\":\"x\"}}",
    /* 4: isError false then true: a tool error, not checked against the schema */
    "{\"content\":[{\"type\":\"text\",\"text\":\"failed\"}],\"isError\":false,\"isError\":true,\"structuredContent\":{\"n\":\"x\"}}",
    /* 5: \u escapes, raw UTF-8, an exponent, trailing whitespace */
    "{\"content\":[{\"type\":\"text\",\"text\":\"caf\\u00e9 \xc3\xa9\"}],\"structuredContent\":{\"n\":5e0}} \n",
    /* 6: resultType and _meta of the plugin's own */
    "{\"content\":[{\"type\":\"text\",\"text\":\"meta\"}],\"structuredContent\":{\"n\":6},\"resultType\":\"partial\",\"_meta\":{\"x\":1}}",
    /* 7: plain */
    "{\"content\":[{\"type\":\"text\",\"text\":\"plain \\\"quoted\\\" \\n\"}],\"structuredContent\":{\"n\":7}}",
    /* 8: content that is not an array */
    "{\"content\":{\"type\":\"text\",\"text\":\"x\"},\"structuredContent\":{\"n\":8}}",
    /* 9: structuredContent missing where the tool declares an outputSchema */
    "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}",
    /* 10: a block without a type */
    "{\"content\":[{\"type\":\"text\",\"text\":\"x\"},{\"text\":\"no type\"}],\"structuredContent\":{\"n\":10}}",
    /* 11: a block whose type is not a string */
    "{\"content\":[{\"type\":11,\"text\":\"x\"}],\"structuredContent\":{\"n\":11}}",
    /* 12: a block that is not an object */
    "{\"content\":[\"text\"],\"structuredContent\":{\"n\":12}}",
};

/* A `hang` call waiting for cancel(). */
typedef struct pending_call {
    uint64_t call_id;
    void *call_context;
    mcp_call_completion_fn completion;
    struct pending_call *next;
} pending_call;

typedef struct faults_instance {
    pthread_mutex_t lock;
    pending_call *pending; /* guarded by lock */
} faults_instance;

static uint8_t *copy_text(const char *text, size_t *len) {
    *len = strlen(text);
    uint8_t *buffer = malloc(*len ? *len : 1);
    if (!buffer) {
        *len = 0;
        return NULL;
    }
    memcpy(buffer, text, *len);
    return buffer;
}

static void complete(mcp_call_completion_fn completion, void *call_context, mcp_status status, const char *text) {
    size_t len = 0;
    uint8_t *buffer = text ? copy_text(text, &len) : NULL;
    completion(call_context, status, buffer, len);
}

/* The integer member `name` of the top-level arguments object, or `fallback`. Deliberately simple:
 * the host validated the arguments, and only the test suite calls this plugin. */
static long long integer_member(const uint8_t *json, size_t len, const char *name, long long fallback) {
    char pattern[64];
    int n = snprintf(pattern, sizeof pattern, "\"%s\"", name);
    if (!json || n <= 0 || (size_t)n >= sizeof pattern) return fallback;
    for (size_t i = 0; i + (size_t)n <= len; i++) {
        if (memcmp(json + i, pattern, (size_t)n) != 0) continue;
        size_t j = i + (size_t)n;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
        if (j >= len || json[j] != ':') continue;
        j++;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
        long long value = 0;
        int negative = 0, digits = 0;
        if (j < len && json[j] == '-') {
            negative = 1;
            j++;
        }
        while (j < len && json[j] >= '0' && json[j] <= '9' && digits < 18) {
            value = value * 10 + (json[j] - '0');
            j++;
            digits++;
        }
        if (digits > 0) return negative ? -value : value;
    }
    return fallback;
}

/* ------------------------------------------------------------------ slow ------------------- */
typedef struct slow_call {
    long long ms;
    void *call_context;
    mcp_call_completion_fn completion;
} slow_call;

static void *slow_thread(void *argument) {
    slow_call *call = argument;
    struct timespec delay = {.tv_sec = call->ms / 1000, .tv_nsec = (call->ms % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
    }
    char text[64];
    snprintf(text, sizeof text, "{\"content\":[{\"type\":\"text\",\"text\":\"slept %lld ms\"}]}", call->ms);
    complete(call->completion, call->call_context, MCP_STATUS_OK, text);
    free(call);
    return NULL;
}

/* ------------------------------------------------------------------ the ABI --------------- */
static mcp_status faults_init(const mcp_host_services *services, uint8_t **out_error, size_t *out_error_len) {
    (void)services;
    (void)out_error;
    (void)out_error_len;
    return MCP_STATUS_OK;
}

static mcp_status faults_create_instance(const uint8_t *config_json, size_t config_len, void *instance_token,
                                         void **out_instance, uint8_t **out_error, size_t *out_error_len) {
    (void)config_json;
    (void)config_len;
    (void)instance_token;
    faults_instance *instance = calloc(1, sizeof *instance);
    if (!instance) {
        *out_error = copy_text("out of memory", out_error_len);
        return MCP_STATUS_INTERNAL_ERROR;
    }
    pthread_mutex_init(&instance->lock, NULL);
    *out_instance = instance;
    return MCP_STATUS_OK;
}

/* Completes every call still hanging as CANCELLED before the instance goes away. */
static void faults_destroy_instance(void *opaque) {
    faults_instance *instance = opaque;
    if (!instance) return;
    pthread_mutex_lock(&instance->lock);
    pending_call *pending = instance->pending;
    instance->pending = NULL;
    pthread_mutex_unlock(&instance->lock);
    while (pending) {
        pending_call *next = pending->next;
        complete(pending->completion, pending->call_context, MCP_STATUS_CANCELLED, NULL);
        free(pending);
        pending = next;
    }
    pthread_mutex_destroy(&instance->lock);
    free(instance);
}

static int tool_is(const mcp_call *call, const char *name) {
    size_t n = strlen(name);
    return call->tool_len == n && memcmp(call->tool, name, n) == 0;
}

static void faults_call(void *opaque, const mcp_call *call) {
    faults_instance *instance = opaque;
    if (tool_is(call, "tool_error")) {
        complete(call->completion, call->call_context, MCP_STATUS_TOOL_ERROR, "tool failed on purpose");
    } else if (tool_is(call, "internal_error")) {
        complete(call->completion, call->call_context, MCP_STATUS_INTERNAL_ERROR, "internal failure on purpose");
    } else if (tool_is(call, "hang")) {
        pending_call *pending = malloc(sizeof *pending);
        if (!pending) {
            complete(call->completion, call->call_context, MCP_STATUS_INTERNAL_ERROR, "out of memory");
            return;
        }
        pending->call_id = call->call_id;
        pending->call_context = call->call_context;
        pending->completion = call->completion;
        pthread_mutex_lock(&instance->lock);
        pending->next = instance->pending;
        instance->pending = pending;
        pthread_mutex_unlock(&instance->lock);
    } else if (tool_is(call, "garbage")) {
        complete(call->completion, call->call_context, MCP_STATUS_OK, "{\"content\": [ broken");
    } else if (tool_is(call, "bad_structured")) {
        complete(call->completion, call->call_context, MCP_STATUS_OK,
                 "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],\"structuredContent\":{\"n\":\"not a number\"}}");
    } else if (tool_is(call, "wrong_shape")) {
        complete(call->completion, call->call_context, MCP_STATUS_OK, "[1,2,3]");
    } else if (tool_is(call, "reply")) {
        long long n = integer_member(call->arguments, call->arguments_len, "n", -1);
        if (n < 0 || n >= (long long)(sizeof replies / sizeof replies[0])) {
            complete(call->completion, call->call_context, MCP_STATUS_INVALID_ARGUMENTS, "no such reply");
        } else {
            complete(call->completion, call->call_context, MCP_STATUS_OK, replies[n]);
        }
    } else if (tool_is(call, "slow")) {
        slow_call *slow = malloc(sizeof *slow);
        pthread_t thread;
        pthread_attr_t attributes;
        if (!slow) {
            complete(call->completion, call->call_context, MCP_STATUS_INTERNAL_ERROR, "out of memory");
            return;
        }
        slow->ms = integer_member(call->arguments, call->arguments_len, "ms", 0);
        if (slow->ms < 0) slow->ms = 0;
        slow->call_context = call->call_context;
        slow->completion = call->completion;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, slow_thread, slow);
        pthread_attr_destroy(&attributes);
        if (failed) {
            free(slow);
            complete(call->completion, call->call_context, MCP_STATUS_INTERNAL_ERROR, "cannot start a thread");
        }
    } else {
        complete(call->completion, call->call_context, MCP_STATUS_UNKNOWN_TOOL, "faults has no such tool");
    }
}

/* Completes the `hang` call `call_id` as CANCELLED (from this thread); other calls ignore cancel. */
static void faults_cancel(void *opaque, uint64_t call_id) {
    faults_instance *instance = opaque;
    pending_call *found = NULL;
    pthread_mutex_lock(&instance->lock);
    for (pending_call **link = &instance->pending; *link; link = &(*link)->next) {
        if ((*link)->call_id == call_id) {
            found = *link;
            *link = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&instance->lock);
    if (found) {
        complete(found->completion, found->call_context, MCP_STATUS_CANCELLED, NULL);
        free(found);
    }
}

static void faults_free_buf(void *buffer) { free(buffer); }

static const mcp_plugin_descriptor descriptor = {
    .abi_version = MCP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(mcp_plugin_descriptor),
    .name = "faults",
    .version = "1.0.0",
    .sdk_id = MCP_PLUGIN_SDK_ID_C,
    .manifest_json = manifest,
    .init = faults_init,
    .create_instance = faults_create_instance,
    .destroy_instance = faults_destroy_instance,
    .call = faults_call,
    .cancel = faults_cancel,
    .free_buf = faults_free_buf,
};

FAULTS_EXPORT const mcp_plugin_descriptor *mcp_plugin_entry(void) { return &descriptor; }
