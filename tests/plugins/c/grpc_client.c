/*
 * grpc_client: gRPC callouts from an HTTP filter, unary and streaming.
 *
 * Plugin configuration: the cluster to call; empty means "grpc". Service "echo.Echo".
 *
 * The request header "x-grpc" picks what the filter does (no header: nothing, Continue):
 *   unary  - proxy_grpc_call to echo.Echo/Say with the request's :path as the message and the
 *            initial metadata "x-caller: grpc_client", timeout 1000 ms; the stream pauses until
 *            the call ends: its reply (proxy_on_grpc_receive: Envoy delivers a unary success
 *            as the message alone, with no close) adds "x-grpc-reply: <the message>" and
 *            resumes; a close (a failure) answers 503 "grpc error <code>: <message>\n";
 *   error  - the same call to echo.Echo/Fail, a method kept for error answers;
 *   stream - proxy_grpc_stream to echo.Echo/Chat, then proxy_grpc_send of "one", "two" and
 *            "three" (the last with end_of_stream); on close, "x-grpc-replies: <the messages
 *            received, joined by commas>" (or the 503 above);
 *   close  - the stream, sending only "one", then proxy_grpc_close to end the filter's side;
 *            answered as stream;
 *   cancel - the unary call, cancelled at once with proxy_grpc_cancel: no callback follows, and
 *            the request continues with "x-grpc-cancelled: <cancel's status>".
 *
 * gRPC answers reach the root context with only the call id, so the filter maps call ids to
 * streams (pending_calls.c) and makes the stream the effective context before touching it.
 */
#include "proxy_wasm.h"

#define CALL_TIMEOUT_MILLISECONDS 1000

static const Str SERVICE = STR_INIT("echo.Echo");
static const HeaderPair CALLER_METADATA = {STR_INIT("x-caller"), STR_INIT("grpc_client")};

typedef enum { MODE_UNARY, MODE_ERROR, MODE_STREAM, MODE_CLOSE, MODE_CANCEL } Mode;

typedef struct {
    Str name;
    Mode mode;
} ModeName;

static const ModeName MODES[] = {
    {STR_INIT("unary"), MODE_UNARY}, {STR_INIT("error"), MODE_ERROR},
    {STR_INIT("stream"), MODE_STREAM}, {STR_INIT("close"), MODE_CLOSE},
    {STR_INIT("cancel"), MODE_CANCEL},
};

typedef struct {
    Mode mode;
    Str reply;           /* owned: the last message received (unary) */
    TextBuilder replies; /* every message received, joined by commas (streams) */
} StreamState;

static Str configured_cluster; /* owned; size 0 means the default */

static Str cluster_name(void) { return str_or(configured_cluster, STR("grpc")); }

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configured_cluster, configuration_size);
    return 1;
}

static void reply_503(Str details, Str body) { send_local_response(503, details, body, NULL, 0); }

static void dispatch_failed(ProxyStatus status) {
    log_format(LOG_ERROR, "grpc_client: dispatch failed with status %u", status);
    reply_503(STR("grpc_dispatch_failed"), STR("grpc service unavailable\n"));
}

/* A unary call to `method` with the request's :path as the message; false if not dispatched. */
static bool call_unary(Str method, uint32_t *call_id) {
    Str path = {0};
    get_header(MAP_HTTP_REQUEST_HEADERS, STR(":path"), &path);
    Str metadata = header_pairs_build(&CALLER_METADATA, 1);
    Str cluster = cluster_name();
    ProxyStatus status = proxy_grpc_call(
        cluster.data, cluster.size, SERVICE.data, SERVICE.size, method.data, method.size,
        (const uint8_t *)metadata.data, metadata.size, (const uint8_t *)path.data, path.size,
        CALL_TIMEOUT_MILLISECONDS, call_id);
    str_free(metadata);
    if (status == PROXY_OK)
        log_format(LOG_INFO, "grpc_client: called %s/%s with %s", SERVICE, method, path);
    else
        dispatch_failed(status);
    str_free(path);
    return status == PROXY_OK;
}

static bool open_stream(uint32_t *stream_id) {
    Str method = STR("Chat");
    Str metadata = header_pairs_build(&CALLER_METADATA, 1);
    Str cluster = cluster_name();
    ProxyStatus status = proxy_grpc_stream(cluster.data, cluster.size, SERVICE.data, SERVICE.size,
                                           method.data, method.size, (const uint8_t *)metadata.data,
                                           metadata.size, stream_id);
    str_free(metadata);
    if (status == PROXY_OK)
        log_format(LOG_INFO, "grpc_client: opened %s/%s", SERVICE, method);
    else
        dispatch_failed(status);
    return status == PROXY_OK;
}

/* A send or close on an open stream failed: give the stream up and fail the request. */
static void stream_failed(uint32_t stream_id, Str call, ProxyStatus status) {
    log_format(LOG_ERROR, "grpc_client: %s answered %u", call, status);
    proxy_grpc_cancel(stream_id);
    reply_503(STR("grpc_stream_failed"), STR("grpc stream failed\n"));
}

/* Sends the messages of `stream` or `close` mode; false (after stream_failed) on a failure. */
static bool talk(uint32_t stream_id, Mode mode) {
    static const Str MESSAGES[] = {STR_INIT("one"), STR_INIT("two"), STR_INIT("three")};
    size_t count = mode == MODE_STREAM ? 3 : 1;
    for (size_t i = 0; i < count; i++) {
        uint32_t end_of_stream = mode == MODE_STREAM && i == count - 1;
        ProxyStatus status = proxy_grpc_send(stream_id, (const uint8_t *)MESSAGES[i].data,
                                             MESSAGES[i].size, end_of_stream);
        if (status != PROXY_OK) {
            stream_failed(stream_id, STR("proxy_grpc_send"), status);
            return false;
        }
        log_format(LOG_INFO, "grpc_client: sent %s", MESSAGES[i]);
    }
    if (mode != MODE_CLOSE)
        return true;
    ProxyStatus status = proxy_grpc_close(stream_id);
    if (status != PROXY_OK) {
        stream_failed(stream_id, STR("proxy_grpc_close"), status);
        return false;
    }
    log_text(LOG_INFO, STR("grpc_client: closed its side of the stream"));
    return true;
}

static void cancel_at_once(uint32_t call_id) {
    ProxyStatus status = proxy_grpc_cancel(call_id);
    log_format(LOG_INFO, "grpc_client: cancelled the call, status %u", status);
    TextBuilder value = {0};
    text_format(&value, "%u", status);
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-grpc-cancelled"), text_view(&value));
    text_free(&value);
}

/* The x-grpc mode; false (after a warning) when the header names no mode. */
static bool requested_mode(Str header, Mode *mode) {
    for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++) {
        if (str_equal(header, MODES[i].name)) {
            *mode = MODES[i].mode;
            return true;
        }
    }
    log_format(LOG_WARN, "grpc_client: unknown x-grpc mode %s", header);
    return false;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    Str header;
    if (!get_header(MAP_HTTP_REQUEST_HEADERS, STR("x-grpc"), &header))
        return PROXY_CONTINUE;
    Mode mode = MODE_UNARY;
    bool known = requested_mode(header, &mode);
    str_free(header);
    StreamState *stream = context_state(context_id, sizeof(StreamState));
    if (!known || stream == NULL)
        return PROXY_CONTINUE;
    stream->mode = mode;
    uint32_t call_id = 0;
    bool started = mode == MODE_STREAM || mode == MODE_CLOSE
        ? open_stream(&call_id)
        : call_unary(mode == MODE_ERROR ? STR("Fail") : STR("Say"), &call_id);
    if (!started)
        return PROXY_PAUSE;
    if (mode == MODE_CANCEL) {
        cancel_at_once(call_id);
        return PROXY_CONTINUE;
    }
    if (!pending_call_add(call_id, context_id)) {
        proxy_grpc_cancel(call_id);
        dispatch_failed(PROXY_OK);
        return PROXY_PAUSE;
    }
    if ((mode == MODE_STREAM || mode == MODE_CLOSE) && !talk(call_id, mode))
        pending_call_take(call_id);
    return PROXY_PAUSE;
}

/* The call succeeded: the stream continues with what it received. */
static void resume_with_replies(uint32_t stream_context_id, StreamState *stream) {
    proxy_set_effective_context(stream_context_id);
    if (stream->mode == MODE_STREAM || stream->mode == MODE_CLOSE)
        add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-grpc-replies"), text_view(&stream->replies));
    else
        add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-grpc-reply"), stream->reply);
    proxy_continue_stream(STREAM_HTTP_REQUEST);
}

/* The state of the stream waiting for `call_id`, or NULL after a warning. */
static StreamState *waiting_stream(uint32_t call_id) {
    uint32_t stream_context_id = pending_call_find(call_id);
    StreamState *stream = stream_context_id ? context_state(stream_context_id, sizeof(StreamState)) : NULL;
    if (stream == NULL)
        log_format(LOG_WARN, "grpc_client: no stream waits for grpc call %u", call_id);
    return stream;
}

static void log_metadata(Str which, ProxyMapType map) {
    Str pairs = {0};
    get_header_pairs(map, &pairs);
    size_t count = header_pairs_count((const uint8_t *)pairs.data, pairs.size);
    log_format(LOG_INFO, "grpc_client: %s metadata with %u entries", which, (uint32_t)count);
    str_free(pairs);
}

PROXY_EXPORT(proxy_on_grpc_receive_initial_metadata)
void proxy_on_grpc_receive_initial_metadata(uint32_t root_context_id, uint32_t call_id,
                                            size_t element_count) {
    (void)root_context_id;
    (void)element_count;
    if (waiting_stream(call_id) != NULL)
        log_metadata(STR("initial"), MAP_GRPC_CALL_INITIAL_METADATA);
}

PROXY_EXPORT(proxy_on_grpc_receive)
void proxy_on_grpc_receive(uint32_t root_context_id, uint32_t call_id, size_t message_size) {
    (void)root_context_id;
    StreamState *stream = waiting_stream(call_id);
    if (stream == NULL)
        return;
    Str message = {0};
    get_buffer(BUFFER_GRPC_CALL_MESSAGE, 0, message_size, &message);
    log_format(LOG_INFO, "grpc_client: received %s", message);
    if (stream->replies.size != 0)
        text_append(&stream->replies, STR(","));
    text_append(&stream->replies, message);
    str_free(stream->reply);
    stream->reply = message;
    if (stream->mode == MODE_UNARY || stream->mode == MODE_ERROR)
        resume_with_replies(pending_call_take(call_id), stream);
}

PROXY_EXPORT(proxy_on_grpc_receive_trailing_metadata)
void proxy_on_grpc_receive_trailing_metadata(uint32_t root_context_id, uint32_t call_id,
                                             size_t element_count) {
    (void)root_context_id;
    (void)element_count;
    if (waiting_stream(call_id) != NULL)
        log_metadata(STR("trailing"), MAP_GRPC_CALL_TRAILING_METADATA);
}

PROXY_EXPORT(proxy_on_grpc_close)
void proxy_on_grpc_close(uint32_t root_context_id, uint32_t call_id, uint32_t status_code) {
    (void)root_context_id;
    StreamState *stream = waiting_stream(call_id);
    if (stream == NULL)
        return;
    uint32_t stream_context_id = pending_call_take(call_id);
    uint32_t code = status_code;
    char *message_data = NULL;
    size_t message_size = 0;
    if (proxy_get_status(&code, &message_data, &message_size) != PROXY_OK)
        code = status_code;
    Str message = {message_data, message_size};
    log_format(LOG_INFO, "grpc_client: closed with status %u", code);
    if (code != 0) {
        proxy_set_effective_context(stream_context_id);
        TextBuilder body = {0};
        text_format(&body, "grpc error %u: %s\n", code, message);
        reply_503(STR("grpc_error"), text_view(&body));
        text_free(&body);
    } else {
        resume_with_replies(stream_context_id, stream);
    }
    str_free(message);
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) {
    pending_calls_forget(context_id);
    StreamState *stream = context_state_take(context_id);
    if (stream == NULL)
        return;
    str_free(stream->reply);
    text_free(&stream->replies);
    plugin_free(stream);
}
