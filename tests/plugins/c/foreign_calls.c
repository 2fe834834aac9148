/*
 * foreign_calls: calls the host's foreign functions on the request body.
 *
 * Plugin configuration: the foreign function that rewrites the body; empty means "reverse".
 *
 * Request headers drop content-length (the body may change size). The request body is buffered
 * (Pause) until end of stream; then the filter
 *   1. calls "compress" on the body and "uncompress" on the result (the zlib pair Envoy
 *      registers) and logs both sizes and whether the round trip gave the body back;
 *   2. calls the configured function on the body and replaces the body with its result; a
 *      function the host does not have (NOT_FOUND) leaves the body alone.
 * It also exports proxy_on_foreign_function, which logs what a host-initiated call passed.
 */
#include "proxy_wasm.h"

static Str configured_function; /* owned; size 0 means the default */

static Str function_name(void) {
    return str_or(configured_function, STR("reverse"));
}

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configured_function, configuration_size);
    return 1;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    remove_header(MAP_HTTP_REQUEST_HEADERS, STR("content-length"));
    return PROXY_CONTINUE;
}

/* `name` on `arguments`: true with *result set (str_free it) when the host answered OK. */
static bool call_logged(Str name, Str arguments, Str *result) {
    ProxyStatus status = call_foreign_function(name, arguments, result);
    if (status == PROXY_NOT_FOUND)
        log_format(LOG_WARN, "foreign_calls: no foreign function %s", name);
    else if (status != PROXY_OK)
        log_format(LOG_WARN, "foreign_calls: %s answered %u", name, status);
    else
        log_format(LOG_INFO, "foreign_calls: %s %u -> %u bytes", name, (uint32_t)arguments.size,
                   (uint32_t)result->size);
    return status == PROXY_OK;
}

static void round_trip(Str body) {
    Str compressed = {0};
    if (!call_logged(STR("compress"), body, &compressed))
        return;
    Str restored = {0};
    if (call_logged(STR("uncompress"), compressed, &restored)) {
        log_format(LOG_INFO, "foreign_calls: round trip %s",
                   str_equal(restored, body) ? STR("matches") : STR("differs"));
        str_free(restored);
    }
    str_free(compressed);
}

PROXY_EXPORT(proxy_on_request_body)
uint32_t proxy_on_request_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream) {
    (void)context_id;
    if (!end_of_stream)
        return PROXY_PAUSE;
    Str body = {0};
    if (body_size != 0)
        get_buffer(BUFFER_HTTP_REQUEST_BODY, 0, body_size, &body);
    round_trip(body);
    Str rewritten = {0};
    if (call_logged(function_name(), body, &rewritten)) {
        proxy_set_buffer_bytes(BUFFER_HTTP_REQUEST_BODY, 0, body_size,
                               (const uint8_t *)rewritten.data, rewritten.size);
        str_free(rewritten);
    }
    str_free(body);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_foreign_function)
void proxy_on_foreign_function(uint32_t root_context_id, uint32_t function_id,
                               size_t arguments_size) {
    (void)root_context_id;
    Str arguments = {0};
    if (arguments_size != 0)
        get_buffer(BUFFER_FOREIGN_FUNCTION_ARGUMENTS, 0, arguments_size, &arguments);
    log_format(LOG_INFO, "foreign_calls: foreign function %u called with %u bytes: %s", function_id,
               (uint32_t)arguments_size, arguments);
    str_free(arguments);
}
