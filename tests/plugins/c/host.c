/*
 * host.c: the host calls the example filters make, taking Str and giving back owned Str.
 * A `get_*` that succeeds leaves a buffer the host allocated in our memory (through
 * proxy_on_memory_allocate); the caller releases it with str_free.
 */
#include "proxy_wasm.h"

void log_text(ProxyLogLevel level, Str message) { proxy_log(level, message.data, message.size); }

void log_with_number(ProxyLogLevel level, Str message, uint64_t number) {
    TextBuilder line = {0};
    text_append(&line, message);
    text_append_u64(&line, number);
    log_built_line(level, &line);
}

void log_built_line(ProxyLogLevel level, TextBuilder *line) {
    log_text(level, text_view(line));
    text_free(line);
}

void log_format(ProxyLogLevel level, const char *format, ...) {
    TextBuilder line = {0};
    va_list arguments;
    va_start(arguments, format);
    text_format_list(&line, format, arguments);
    va_end(arguments);
    log_built_line(level, &line);
}

/* The host writes a pointer and a size; a zero size may come with pointer 0 and no allocation. */
static bool owned_result(ProxyStatus status, char *data, size_t size, Str *out) {
    if (status != PROXY_OK)
        return false;
    *out = (Str){data, size};
    return true;
}

bool get_header(ProxyMapType map, Str key, Str *out) {
    char *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_get_header_map_value(map, key.data, key.size, &data, &size);
    return owned_result(status, data, size, out);
}

bool get_header_pairs(ProxyMapType map, Str *out) {
    uint8_t *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_get_header_map_pairs(map, &data, &size);
    return owned_result(status, (char *)data, size, out);
}

bool get_buffer(ProxyBufferType buffer, size_t start, size_t max_size, Str *out) {
    uint8_t *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_get_buffer_bytes(buffer, start, max_size, &data, &size);
    return owned_result(status, (char *)data, size, out);
}

bool get_property(Str path, Str *out) {
    char *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_get_property(path.data, path.size, &data, &size);
    return owned_result(status, data, size, out);
}

Str get_plugin_configuration(size_t configuration_size) {
    Str configuration = {0};
    if (configuration_size != 0)
        get_buffer(BUFFER_PLUGIN_CONFIGURATION, 0, configuration_size, &configuration);
    return configuration;
}

void keep_plugin_configuration(Str *kept, size_t configuration_size) {
    str_free(*kept);
    *kept = get_plugin_configuration(configuration_size);
}

ProxyStatus get_shared_data(Str key, Str *value, uint32_t *cas) {
    uint8_t *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_get_shared_data(key.data, key.size, &data, &size, cas);
    owned_result(status, (char *)data, size, value);
    return status;
}

ProxyStatus dequeue_shared_queue(uint32_t queue_id, Str *item) {
    uint8_t *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_dequeue_shared_queue(queue_id, &data, &size);
    owned_result(status, (char *)data, size, item);
    return status;
}

ProxyStatus call_foreign_function(Str name, Str arguments, Str *result) {
    uint8_t *data = NULL;
    size_t size = 0;
    ProxyStatus status = proxy_call_foreign_function(
        name.data, name.size, (const uint8_t *)arguments.data, arguments.size, &data, &size);
    owned_result(status, (char *)data, size, result);
    return status;
}

ProxyStatus set_shared_data(Str key, Str value, uint32_t cas) {
    return proxy_set_shared_data(key.data, key.size, (const uint8_t *)value.data, value.size, cas);
}

ProxyStatus dispatch_http_call(Str cluster, const HeaderPair *headers, size_t count,
                               uint32_t timeout_milliseconds, uint32_t *call_id) {
    Str encoded = header_pairs_build(headers, count);
    ProxyStatus status = proxy_http_call(cluster.data, cluster.size, (const uint8_t *)encoded.data,
                                         encoded.size, NULL, 0, NULL, 0, timeout_milliseconds,
                                         call_id);
    str_free(encoded);
    return status;
}

ProxyStatus add_header(ProxyMapType map, Str key, Str value) {
    return proxy_add_header_map_value(map, key.data, key.size, value.data, value.size);
}

ProxyStatus replace_header(ProxyMapType map, Str key, Str value) {
    return proxy_replace_header_map_value(map, key.data, key.size, value.data, value.size);
}

ProxyStatus remove_header(ProxyMapType map, Str key) {
    return proxy_remove_header_map_value(map, key.data, key.size);
}

ProxyStatus set_property(Str path, Str value) {
    return proxy_set_property(path.data, path.size, value.data, value.size);
}

ProxyStatus send_local_response(uint32_t status_code, Str details, Str body,
                                const HeaderPair *headers, size_t count) {
    Str encoded = header_pairs_build(headers, count);
    ProxyStatus status = proxy_send_local_response(
        status_code, details.data, details.size, (const uint8_t *)body.data, body.size,
        (const uint8_t *)encoded.data, encoded.size, GRPC_STATUS_NONE);
    str_free(encoded);
    return status;
}
