/*
 * hostile: makes the host do work and hold memory on the plugin's behalf, for the host's
 * limits (issue 10). The request header "x-hostile" picks the mode:
 *   log_flood     - proxy_log of 100-byte lines in an endless loop;
 *   header_grow   - adds request headers x-grow-1, x-grow-2, ... with 1 KiB values, endlessly;
 *   callout_flood - proxy_http_call to the configured cluster, endlessly;
 *   body_grow     - buffers the request body, then at its end appends 1 MiB to it with
 *                   proxy_set_buffer_bytes, endlessly;
 *   trailers_two  - in the last request body callback adds two request trailers and reads the
 *                   first one back (Envoy keeps an added trailer map usable).
 * A loop stops only when the host answers a status other than OK; then the filter logs how
 * many calls it made and lets the stream continue. A host without limits never gets the
 * callback back (only fuel stops it): the host must make the plugin stop or fail, and must not
 * run out of memory itself.
 *
 * Plugin configuration: the cluster for callout_flood; empty means "flood".
 */
#include "proxy_wasm.h"

#define LOG_LINE_SIZE 100
#define HEADER_VALUE_SIZE 1024
#define BODY_CHUNK_SIZE (1024 * 1024)
#define APPEND_AT_END ((size_t)-1)

typedef enum { MODE_NONE, MODE_BODY_GROW, MODE_TRAILERS_TWO } BodyMode;

typedef struct {
    BodyMode body_mode;
} StreamState;

static Str configured_cluster; /* owned; size 0 means the default */

static Str cluster_name(void) { return str_or(configured_cluster, STR("flood")); }

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configured_cluster, configuration_size);
    return 1;
}

static void stopped(Str call, ProxyStatus status, uint32_t calls) {
    log_format(LOG_ERROR, "hostile: %s answered %u after %u calls", call, status, calls);
}

/* `size` bytes of `byte`, allocated once per filler and kept: the loops reuse them. */
static Str filler(size_t size, char byte) {
    char *data = plugin_alloc(size);
    if (data == NULL)
        __builtin_trap();
    memset(data, byte, size);
    return (Str){data, size};
}

static void flood_log(void) {
    Str line = filler(LOG_LINE_SIZE, 'x');
    Str prefix = STR("hostile: log_flood ");
    memcpy((char *)line.data, prefix.data, prefix.size);
    uint32_t calls = 0;
    ProxyStatus status;
    while ((status = proxy_log(LOG_INFO, line.data, line.size)) == PROXY_OK)
        calls++;
    stopped(STR("proxy_log"), status, calls);
    str_free(line);
}

static void grow_headers(void) {
    Str value = filler(HEADER_VALUE_SIZE, 'v');
    uint32_t calls = 0;
    ProxyStatus status;
    for (;;) {
        TextBuilder name = {0};
        text_format(&name, "x-grow-%u", calls + 1);
        status = add_header(MAP_HTTP_REQUEST_HEADERS, text_view(&name), value);
        text_free(&name);
        if (status != PROXY_OK)
            break;
        calls++;
    }
    stopped(STR("proxy_add_header_map_value"), status, calls);
    str_free(value);
}

static void flood_callouts(void) {
    const HeaderPair headers[] = {
        {STR(":method"), STR("GET")},
        {STR(":path"), STR("/flood")},
        {STR(":authority"), cluster_name()},
    };
    uint32_t calls = 0;
    uint32_t call_id = 0;
    ProxyStatus status;
    while ((status = dispatch_http_call(cluster_name(), headers, 3, 1000, &call_id)) == PROXY_OK)
        calls++;
    stopped(STR("proxy_http_call"), status, calls);
}

static void grow_body(void) {
    Str chunk = filler(BODY_CHUNK_SIZE, 'b');
    uint32_t calls = 0;
    ProxyStatus status;
    while ((status = proxy_set_buffer_bytes(BUFFER_HTTP_REQUEST_BODY, APPEND_AT_END, 0,
                                            (const uint8_t *)chunk.data, chunk.size)) == PROXY_OK)
        calls++;
    stopped(STR("proxy_set_buffer_bytes"), status, calls);
    str_free(chunk);
}

static void add_two_trailers(void) {
    ProxyStatus first = add_header(MAP_HTTP_REQUEST_TRAILERS, STR("x-t1"), STR("a"));
    ProxyStatus second = add_header(MAP_HTTP_REQUEST_TRAILERS, STR("x-t2"), STR("b"));
    char *data = NULL;
    size_t size = 0;
    Str key = STR("x-t1");
    ProxyStatus read = proxy_get_header_map_value(MAP_HTTP_REQUEST_TRAILERS, key.data, key.size,
                                                  &data, &size);
    Str value = {data, size};
    log_format(LOG_INFO, "hostile: add x-t1 answered %u, add x-t2 answered %u, get x-t1 answered %u value %s",
               first, second, read, read == PROXY_OK ? value : STR("-"));
    if (read == PROXY_OK)
        str_free(value);
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    Str mode;
    if (!get_header(MAP_HTTP_REQUEST_HEADERS, STR("x-hostile"), &mode))
        return PROXY_CONTINUE;
    StreamState *stream = context_state(context_id, sizeof(StreamState));
    if (str_equal(mode, STR("log_flood")))
        flood_log();
    else if (str_equal(mode, STR("header_grow")))
        grow_headers();
    else if (str_equal(mode, STR("callout_flood")))
        flood_callouts();
    else if (str_equal(mode, STR("body_grow")) && stream != NULL)
        stream->body_mode = MODE_BODY_GROW;
    else if (str_equal(mode, STR("trailers_two")) && stream != NULL)
        stream->body_mode = MODE_TRAILERS_TWO;
    else
        log_format(LOG_WARN, "hostile: unknown mode %s", mode);
    str_free(mode);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_request_body)
uint32_t proxy_on_request_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream) {
    (void)body_size;
    StreamState *stream = context_state(context_id, sizeof(StreamState));
    BodyMode mode = stream ? stream->body_mode : MODE_NONE;
    if (mode == MODE_BODY_GROW && !end_of_stream)
        return PROXY_PAUSE;
    if (mode == MODE_BODY_GROW)
        grow_body();
    else if (mode == MODE_TRAILERS_TWO && end_of_stream)
        add_two_trailers();
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) { plugin_free(context_state_take(context_id)); }
