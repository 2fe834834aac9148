/*
 * metrics_properties: metrics and properties.
 *
 * Metrics, defined in proxy_on_configure (which returns false if a definition fails):
 *   counter   metrics_properties.requests_total          +1 per request (on request headers)
 *   gauge     metrics_properties.last_request_body_bytes  set to the request body size
 *   histogram metrics_properties.request_body_bytes       records the request body size
 * The body size is recorded at the end of the request: 0 when the headers end the stream,
 * else the sum of the body chunks' sizes.
 *
 * Properties: reads request.path, request.method, source.address, plugin_name, plugin_root_id
 * and custom.tenant (path "custom\0tenant", set by the scenario); sets the property
 * "metrics_properties.seen_path" to the request path; and on response headers copies them all
 * into response headers. In proxy_on_log it reads response.code (an 8-byte little-endian int).
 */
#include "proxy_wasm.h"

static uint32_t requests_total;
static uint32_t last_request_body_bytes;
static uint32_t request_body_bytes;

typedef struct {
    uint64_t request_body_size;
} StreamState;

typedef struct {
    Str path; /* segments joined by '\0' */
    Str response_header;
} PropertyHeader;

static const PropertyHeader PROPERTY_HEADERS[] = {
    {STR_INIT("request\0path"), STR_INIT("x-mp-path")},
    {STR_INIT("request\0method"), STR_INIT("x-mp-method")},
    {STR_INIT("source\0address"), STR_INIT("x-mp-source")},
    {STR_INIT("plugin_name"), STR_INIT("x-mp-plugin-name")},
    {STR_INIT("plugin_root_id"), STR_INIT("x-mp-root-id")},
    {STR_INIT("custom\0tenant"), STR_INIT("x-mp-tenant")},
    {STR_INIT("metrics_properties.seen_path"), STR_INIT("x-mp-seen-path")},
};
#define PROPERTY_HEADER_COUNT (sizeof PROPERTY_HEADERS / sizeof PROPERTY_HEADERS[0])
#define REQUEST_PROPERTY_COUNT 6 /* the first six are the ones logged on request headers */

static void log_line(ProxyLogLevel level, TextBuilder *line) {
    log_text(level, text_view(line));
    text_free(line);
}

static bool define(ProxyMetricType type, Str name, uint32_t *metric_id) {
    if (proxy_define_metric(type, name.data, name.size, metric_id) == PROXY_OK)
        return true;
    TextBuilder line = {0};
    text_append(&line, STR("metrics_properties: cannot define metric "));
    text_append(&line, name);
    log_line(LOG_ERROR, &line);
    return false;
}

PROXY_EXPORT(proxy_on_vm_start)
uint32_t proxy_on_vm_start(uint32_t root_context_id, size_t vm_configuration_size) {
    (void)root_context_id;
    TextBuilder line = {0};
    text_append(&line, STR("metrics_properties: vm started with "));
    text_append_u64(&line, vm_configuration_size);
    text_append(&line, STR(" bytes of vm configuration"));
    log_line(LOG_INFO, &line);
    return 1;
}

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    (void)configuration_size;
    return define(METRIC_COUNTER, STR("metrics_properties.requests_total"), &requests_total)
        && define(METRIC_GAUGE, STR("metrics_properties.last_request_body_bytes"),
                  &last_request_body_bytes)
        && define(METRIC_HISTOGRAM, STR("metrics_properties.request_body_bytes"),
                  &request_body_bytes);
}

/* The property's value, or an empty Str when the host has none; str_free it either way. */
static Str property_or_empty(Str path) {
    Str value;
    if (get_property(path, &value))
        return value;
    return (Str){0};
}

/* What headers and logs show for a value: "-" for a missing (or empty) one. */
static Str shown(Str value) { return value.size ? value : STR("-"); }

static void record_request_body_size(uint64_t size) {
    proxy_record_metric(last_request_body_bytes, size);
    proxy_record_metric(request_body_bytes, size);
    TextBuilder line = {0};
    text_append(&line, STR("metrics_properties: request body "));
    text_append_u64(&line, size);
    text_append(&line, STR(" bytes"));
    log_line(LOG_INFO, &line);
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    proxy_increment_metric(requests_total, 1);
    uint64_t request_number = 0;
    proxy_get_metric(requests_total, &request_number);

    TextBuilder line = {0};
    text_append(&line, STR("metrics_properties: request #"));
    text_append_u64(&line, request_number);
    for (size_t i = 0; i < REQUEST_PROPERTY_COUNT; i++) {
        Str value = property_or_empty(PROPERTY_HEADERS[i].path);
        text_append(&line, STR(" "));
        text_append(&line, PROPERTY_HEADERS[i].response_header);
        text_append(&line, STR("="));
        text_append(&line, shown(value));
        str_free(value);
    }
    log_line(LOG_INFO, &line);

    Str path = property_or_empty(STR("request\0path"));
    if (set_property(STR("metrics_properties.seen_path"), path) != PROXY_OK)
        log_text(LOG_WARN, STR("metrics_properties: cannot set metrics_properties.seen_path"));
    str_free(path);
    if (end_of_stream)
        record_request_body_size(0);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_request_body)
uint32_t proxy_on_request_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream) {
    StreamState *state = context_state(context_id, sizeof(StreamState));
    if (state == NULL)
        return PROXY_CONTINUE;
    state->request_body_size += body_size;
    if (end_of_stream)
        record_request_body_size(state->request_body_size);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    for (size_t i = 0; i < PROPERTY_HEADER_COUNT; i++) {
        Str value = property_or_empty(PROPERTY_HEADERS[i].path);
        add_header(MAP_HTTP_RESPONSE_HEADERS, PROPERTY_HEADERS[i].response_header, shown(value));
        str_free(value);
    }
    uint64_t request_count = 0;
    proxy_get_metric(requests_total, &request_count);
    TextBuilder count = {0};
    text_append_u64(&count, request_count);
    add_header(MAP_HTTP_RESPONSE_HEADERS, STR("x-mp-request-count"), text_view(&count));
    text_free(&count);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_log)
void proxy_on_log(uint32_t context_id) {
    (void)context_id;
    Str code = {0};
    TextBuilder line = {0};
    text_append(&line, STR("metrics_properties: log response.code="));
    if (get_property(STR("response\0code"), &code) && code.size == 8) {
        uint64_t value;
        memcpy(&value, code.data, sizeof value);
        text_append_u64(&line, value);
    } else {
        text_append(&line, STR("-"));
    }
    str_free(code);
    log_line(LOG_INFO, &line);
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) { plugin_free(context_state_take(context_id)); }
