/*
 * body_rewrite: rewrites bodies in both directions.
 *
 * Request: returns Pause from every body callback until end_of_stream, so the host buffers the
 * body and each call sees the cumulative size; at the end it replaces every "secret" with
 * "[redacted]" and puts the result back with proxy_set_buffer_bytes (replace: start 0, size =
 * the whole body). Response: upper-cases each chunk as it passes (replace) and, at
 * end_of_stream, appends "\n[rewritten by body_rewrite]\n" (append: start = current size).
 * Both directions drop content-length from the headers, since the body length changes.
 * Every body callback logs "body_rewrite: <request|response> body <size> bytes,
 * end_of_stream=<0|1>".
 */
#include "proxy_wasm.h"

static void log_body_callback(Str direction, size_t size, uint32_t end_of_stream) {
    TextBuilder line = {0};
    text_append(&line, STR("body_rewrite: "));
    text_append(&line, direction);
    text_append(&line, STR(" body "));
    text_append_u64(&line, size);
    text_append(&line, STR(" bytes, end_of_stream="));
    text_append_u64(&line, end_of_stream ? 1 : 0);
    log_text(LOG_INFO, text_view(&line));
    text_free(&line);
}

static void redact(Str body, TextBuilder *out) {
    Str secret = STR("secret");
    size_t i = 0;
    while (i < body.size) {
        Str rest = str_slice(body, i, body.size);
        if (str_starts_with(rest, secret)) {
            text_append(out, STR("[redacted]"));
            i += secret.size;
        } else {
            text_append(out, str_slice(body, i, i + 1));
            i++;
        }
    }
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    remove_header(MAP_HTTP_REQUEST_HEADERS, STR("content-length"));
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_request_body)
uint32_t proxy_on_request_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream) {
    (void)context_id;
    log_body_callback(STR("request"), body_size, end_of_stream);
    if (!end_of_stream)
        return PROXY_PAUSE;
    Str body = {0};
    get_buffer(BUFFER_HTTP_REQUEST_BODY, 0, body_size, &body);
    TextBuilder rewritten = {0};
    redact(body, &rewritten);
    proxy_set_buffer_bytes(BUFFER_HTTP_REQUEST_BODY, 0, body_size, (const uint8_t *)rewritten.data,
                           rewritten.size);
    TextBuilder line = {0};
    text_append(&line, STR("body_rewrite: request body rewritten "));
    text_append_u64(&line, body.size);
    text_append(&line, STR(" -> "));
    text_append_u64(&line, rewritten.size);
    text_append(&line, STR(" bytes"));
    log_text(LOG_INFO, text_view(&line));
    text_free(&line);
    text_free(&rewritten);
    str_free(body);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    remove_header(MAP_HTTP_RESPONSE_HEADERS, STR("content-length"));
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_body)
uint32_t proxy_on_response_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream) {
    (void)context_id;
    log_body_callback(STR("response"), body_size, end_of_stream);
    Str chunk = {0};
    if (body_size != 0 && get_buffer(BUFFER_HTTP_RESPONSE_BODY, 0, body_size, &chunk)) {
        char *upper = (char *)chunk.data; /* ours: the host allocated it for us */
        for (size_t i = 0; i < chunk.size; i++)
            if (upper[i] >= 'a' && upper[i] <= 'z')
                upper[i] = (char)(upper[i] - 'a' + 'A');
        proxy_set_buffer_bytes(BUFFER_HTTP_RESPONSE_BODY, 0, body_size, (const uint8_t *)upper,
                               chunk.size);
        str_free(chunk);
    }
    if (end_of_stream) {
        Str suffix = STR("\n[rewritten by body_rewrite]\n");
        proxy_set_buffer_bytes(BUFFER_HTTP_RESPONSE_BODY, body_size, 0, (const uint8_t *)suffix.data,
                               suffix.size);
    }
    return PROXY_CONTINUE;
}
