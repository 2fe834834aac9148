/*
 * auth_call: asks an auth service about every request before letting it through.
 *
 * Plugin configuration (buffer 7): the cluster to call; empty means "auth".
 *
 * Request headers: dispatches GET /check to the cluster (":authority: auth", forwarding the
 * request's authorization header when there is one) and returns Pause. If the dispatch itself
 * fails (e.g. unknown cluster), replies 503 "auth_dispatch_failed" at once.
 *
 * The answer arrives as proxy_on_http_call_response. Envoy delivers it to the ROOT context
 * (proxy_http_call belongs to the root context of whoever called it), so the plugin keeps its
 * own table from call id to stream context and makes that stream the effective context before
 * touching it, as the Rust and AssemblyScript SDKs do:
 *   - no headers (the call failed or timed out): local reply 503, details "auth_unavailable";
 *   - ":status: 200": adds request header x-user with the call's response body (trailing
 *     whitespace removed) and resumes the request with proxy_continue_stream;
 *   - any other status: local reply 403, details "auth_denied", with x-auth-status: <status>.
 */
#include "proxy_wasm.h"

#define CALL_TIMEOUT_MILLISECONDS 5000

static Str configured_cluster; /* owned; size 0 means the default */

static Str cluster_name(void) { return str_or(configured_cluster, STR("auth")); }

static const HeaderPair PLAIN_TEXT = {STR_INIT("content-type"), STR_INIT("text/plain")};

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configured_cluster, configuration_size);
    return 1;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    HeaderPair call_headers[4] = {
        {STR(":method"), STR("GET")},
        {STR(":path"), STR("/check")},
        {STR(":authority"), STR("auth")},
    };
    size_t count = 3;
    Str authorization = {0};
    if (get_header(MAP_HTTP_REQUEST_HEADERS, STR("authorization"), &authorization))
        call_headers[count++] = (HeaderPair){STR("authorization"), authorization};

    uint32_t call_id = 0;
    ProxyStatus status = dispatch_http_call(cluster_name(), call_headers, count,
                                            CALL_TIMEOUT_MILLISECONDS, &call_id);
    str_free(authorization);

    if (status != PROXY_OK || !pending_call_add(call_id, context_id)) {
        log_with_number(LOG_ERROR, STR("auth_call: dispatch failed with status "), status);
        send_local_response(503, STR("auth_dispatch_failed"), STR("auth service unavailable\n"),
                            &PLAIN_TEXT, 1);
        return PROXY_PAUSE;
    }
    log_with_number(LOG_INFO, STR("auth_call: dispatched call "), call_id);
    return PROXY_PAUSE;
}

static Str trim_trailing_whitespace(Str text) {
    while (text.size > 0) {
        char last = text.data[text.size - 1];
        if (last != ' ' && last != '\t' && last != '\r' && last != '\n')
            break;
        text.size--;
    }
    return text;
}

static void allow(size_t body_size) {
    Str body = {0};
    get_buffer(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, body_size, &body);
    Str user = trim_trailing_whitespace(body);
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-user"), user);
    TextBuilder line = {0};
    text_append(&line, STR("auth_call: allowed user "));
    text_append(&line, user);
    log_text(LOG_INFO, text_view(&line));
    text_free(&line);
    str_free(body);
    proxy_continue_stream(STREAM_HTTP_REQUEST);
}

static void deny(Str auth_status) {
    TextBuilder line = {0};
    text_append(&line, STR("auth_call: denied, auth service answered "));
    text_append(&line, auth_status);
    log_text(LOG_INFO, text_view(&line));
    text_free(&line);
    HeaderPair headers[2] = {PLAIN_TEXT, {STR("x-auth-status"), auth_status}};
    send_local_response(403, STR("auth_denied"), STR("access denied\n"), headers, 2);
}

static void report_unavailable(void) {
    uint32_t code = 0;
    char *message = NULL;
    size_t message_size = 0;
    TextBuilder line = {0};
    text_append(&line, STR("auth_call: auth service unavailable"));
    if (proxy_get_status(&code, &message, &message_size) == PROXY_OK) {
        text_append(&line, STR(", status "));
        text_append_u64(&line, code);
        text_append(&line, STR(": "));
        text_append(&line, (Str){message, message_size});
        plugin_free(message);
    }
    log_text(LOG_WARN, text_view(&line));
    text_free(&line);
    send_local_response(503, STR("auth_unavailable"), STR("auth service unavailable\n"),
                        &PLAIN_TEXT, 1);
}

PROXY_EXPORT(proxy_on_http_call_response)
void proxy_on_http_call_response(uint32_t context_id, uint32_t call_id, size_t header_count,
                                 size_t body_size, size_t trailer_count) {
    (void)context_id;
    (void)trailer_count;
    uint32_t stream_context_id = pending_call_take(call_id);
    if (stream_context_id == 0) {
        log_with_number(LOG_WARN, STR("auth_call: no stream waits for call "), call_id);
        return;
    }
    proxy_set_effective_context(stream_context_id);
    if (header_count == 0) {
        report_unavailable();
        return;
    }
    Str auth_status = {0};
    get_header(MAP_HTTP_CALL_RESPONSE_HEADERS, STR(":status"), &auth_status);
    if (str_equal(auth_status, STR("200")))
        allow(body_size);
    else
        deny(auth_status);
    str_free(auth_status);
}

/* A stream that ends while its call is in flight: forget the call so its answer is ignored. */
PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) { pending_calls_forget(context_id); }
