/*
 * host.c: the host calls the example filters make, taking Str and giving back owned Str.
 * A `get_*` that succeeds leaves a buffer the host allocated in our memory (through
 * proxy_on_memory_allocate); the caller releases it with str_free.
 */
#include "proxy_wasm.h"

void log_text(ProxyLogLevel level, Str message) { proxy_log(level, message.data, message.size); }

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
    size_t headers_size = header_pairs_encoded_size(headers, count);
    uint8_t *encoded = plugin_alloc(headers_size);
    if (encoded == NULL)
        __builtin_trap();
    header_pairs_encode(headers, count, encoded);
    ProxyStatus status = proxy_send_local_response(
        status_code, details.data, details.size, (const uint8_t *)body.data, body.size, encoded,
        headers_size, GRPC_STATUS_NONE);
    plugin_free(encoded);
    return status;
}
