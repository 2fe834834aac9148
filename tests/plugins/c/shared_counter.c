/*
 * shared_counter: counts requests in the VM's shared data with compare-and-swap, the way a
 * filter must when reading and writing are separated by a callout.
 *
 * Plugin configuration: the cluster to call; empty means "slow".
 *
 * Configure creates the key "counter" with "0" when it is missing, so that it has a CAS value
 * from then on (a set with cas 0 is unconditional, which would hide the race below).
 *
 * Request headers read "counter" and its CAS, remember both in the stream's state, dispatch
 * GET /counter to the cluster and pause. The call's answer (whatever it is: it only stands for
 * work that takes time) writes value + 1 with the remembered CAS. When another stream wrote in
 * between, the host answers CAS_MISMATCH: the filter reads again and retries with the fresh
 * CAS until the write succeeds, then adds "x-counter: <value written>" to the request and
 * resumes it. Two overlapping streams therefore show exactly one mismatch and count to 2.
 */
#include "proxy_wasm.h"

#define CALL_TIMEOUT_MILLISECONDS 5000
#define MAX_CAS_ATTEMPTS 100

static const Str COUNTER_KEY = STR_INIT("counter");

static Str configured_cluster; /* owned; size 0 means the default */

typedef struct {
    uint32_t value;
    uint32_t cas;
} StreamState;

static Str cluster_name(void) { return str_or(configured_cluster, STR("slow")); }

/* The counter's value and CAS: NOT_FOUND reads as 0 with cas 0. Any other failure is logged
 * and returned. A value that is not a decimal number counts as 0. */
static ProxyStatus read_counter(uint32_t *value, uint32_t *cas) {
    Str text = {0};
    *value = 0;
    *cas = 0;
    ProxyStatus status = get_shared_data(COUNTER_KEY, &text, cas);
    if (status == PROXY_NOT_FOUND) {
        *cas = 0;
        return PROXY_OK;
    }
    if (status != PROXY_OK) {
        log_format(LOG_ERROR, "shared_counter: proxy_get_shared_data answered %u", status);
        return status;
    }
    if (!str_parse_u32(text, value)) {
        log_format(LOG_WARN, "shared_counter: counter holds %s, counting from 0", text);
        *value = 0;
    }
    str_free(text);
    return PROXY_OK;
}

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configured_cluster, configuration_size);
    Str existing = {0};
    uint32_t cas = 0;
    ProxyStatus status = get_shared_data(COUNTER_KEY, &existing, &cas);
    if (status == PROXY_OK) {
        log_format(LOG_INFO, "shared_counter: counter is %s", existing);
        str_free(existing);
        return 1;
    }
    if (status == PROXY_NOT_FOUND)
        status = set_shared_data(COUNTER_KEY, STR("0"), 0);
    if (status != PROXY_OK) {
        log_format(LOG_ERROR, "shared_counter: cannot create the counter, status %u", status);
        return 0;
    }
    log_text(LOG_INFO, STR("shared_counter: counter created at 0"));
    return 1;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    StreamState *stream = context_state(context_id, sizeof(StreamState));
    if (stream == NULL || read_counter(&stream->value, &stream->cas) != PROXY_OK)
        return PROXY_CONTINUE;
    const HeaderPair headers[] = {
        {STR(":method"), STR("GET")},
        {STR(":path"), STR("/counter")},
        {STR(":authority"), cluster_name()},
    };
    uint32_t call_id = 0;
    ProxyStatus status = dispatch_http_call(cluster_name(), headers, 3, CALL_TIMEOUT_MILLISECONDS,
                                            &call_id);
    if (status != PROXY_OK || !pending_call_add(call_id, context_id)) {
        log_format(LOG_ERROR, "shared_counter: dispatch failed with status %u", status);
        return PROXY_CONTINUE;
    }
    log_format(LOG_INFO, "shared_counter: read %u (cas %u), calling %s", stream->value, stream->cas,
               cluster_name());
    return PROXY_PAUSE;
}

/* Writes value + 1, retrying on CAS_MISMATCH with a fresh read; false when it cannot. */
static bool increment(StreamState *stream, uint32_t *written) {
    for (uint32_t attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        TextBuilder next = {0};
        text_format(&next, "%u", stream->value + 1);
        ProxyStatus status = set_shared_data(COUNTER_KEY, text_view(&next), stream->cas);
        text_free(&next);
        if (status == PROXY_OK) {
            *written = stream->value + 1;
            return true;
        }
        if (status != PROXY_CAS_MISMATCH) {
            log_format(LOG_ERROR, "shared_counter: proxy_set_shared_data answered %u", status);
            return false;
        }
        log_text(LOG_WARN, STR("shared_counter: cas mismatch, retrying"));
        if (read_counter(&stream->value, &stream->cas) != PROXY_OK)
            return false;
    }
    log_format(LOG_ERROR, "shared_counter: gave up after %u cas mismatches", MAX_CAS_ATTEMPTS);
    return false;
}

PROXY_EXPORT(proxy_on_http_call_response)
void proxy_on_http_call_response(uint32_t context_id, uint32_t call_id, size_t header_count,
                                 size_t body_size, size_t trailer_count) {
    (void)context_id;
    (void)header_count;
    (void)body_size;
    (void)trailer_count;
    uint32_t stream_context_id = pending_call_take(call_id);
    StreamState *stream = stream_context_id ? context_state(stream_context_id, sizeof(StreamState)) : NULL;
    if (stream == NULL) {
        log_format(LOG_WARN, "shared_counter: no stream waits for call %u", call_id);
        return;
    }
    proxy_set_effective_context(stream_context_id);
    uint32_t written = 0;
    if (increment(stream, &written)) {
        TextBuilder value = {0};
        text_format(&value, "%u", written);
        add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-counter"), text_view(&value));
        text_free(&value);
        log_format(LOG_INFO, "shared_counter: counter %u -> %u", written - 1, written);
    }
    proxy_continue_stream(STREAM_HTTP_REQUEST);
}

PROXY_EXPORT(proxy_on_log)
void proxy_on_log(uint32_t context_id) {
    (void)context_id;
    Str value = {0};
    uint32_t cas = 0;
    if (get_shared_data(COUNTER_KEY, &value, &cas) == PROXY_OK) {
        log_format(LOG_INFO, "shared_counter: log counter=%s", value);
        str_free(value);
    } else {
        log_text(LOG_INFO, STR("shared_counter: log counter=-"));
    }
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) {
    pending_calls_forget(context_id);
    plugin_free(context_state_take(context_id));
}
