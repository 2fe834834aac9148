/*
 * tcp_rewrite: a network (TCP) filter that rewrites a line protocol in both directions.
 *
 * Downstream data (client to upstream) is buffered (Pause) until it holds a newline or the
 * client ends its side; then the whole buffer is upper-cased (ASCII letters) and let through.
 * A line "QUIT" in it closes the connection instead (proxy_close_stream(DOWNSTREAM)) and the
 * data is held back. Upstream data (upstream to client) gets "[up] " put in front of each
 * chunk. Each connection counts the bytes it received from either side (before rewriting) and
 * logs the totals in proxy_on_log.
 */
#include "proxy_wasm.h"

typedef struct {
    uint32_t downstream_bytes;
    uint32_t upstream_bytes;
    uint32_t downstream_buffered; /* what the host still holds from earlier calls (we paused) */
} ConnectionState;

static ConnectionState *connection(uint32_t context_id) {
    return context_state(context_id, sizeof(ConnectionState));
}

PROXY_EXPORT(proxy_on_new_connection)
uint32_t proxy_on_new_connection(uint32_t context_id) {
    connection(context_id);
    Str address = {0};
    get_property(STR("source\0address"), &address);
    log_format(LOG_INFO, "tcp_rewrite: new connection from %s", address.size ? address : STR("-"));
    str_free(address);
    return PROXY_CONTINUE;
}

static void log_data(Str direction, size_t size, uint32_t end_of_stream) {
    log_format(LOG_INFO, "tcp_rewrite: %s data %u bytes, end_of_stream=%u", direction,
               (uint32_t)size, end_of_stream ? 1u : 0u);
}

/* Whether some line of `data` (the text between newlines, or after the last one) is QUIT. */
static bool has_quit_line(Str data) {
    size_t start = 0;
    while (start <= data.size) {
        Str rest = str_slice(data, start, data.size);
        size_t end = start + str_find_byte(rest, '\n');
        if (str_equal(str_slice(data, start, end), STR("QUIT")))
            return true;
        start = end + 1;
    }
    return false;
}

static void upper_case(char *text, size_t size) {
    for (size_t i = 0; i < size; i++)
        if (text[i] >= 'a' && text[i] <= 'z')
            text[i] = (char)(text[i] - 'a' + 'A');
}

PROXY_EXPORT(proxy_on_downstream_data)
uint32_t proxy_on_downstream_data(uint32_t context_id, size_t data_size, uint32_t end_of_stream) {
    log_data(STR("downstream"), data_size, end_of_stream);
    ConnectionState *state = connection(context_id);
    if (state == NULL)
        return PROXY_CONTINUE;
    if (data_size > state->downstream_buffered)
        state->downstream_bytes += (uint32_t)data_size - state->downstream_buffered;
    Str data = {0};
    if (data_size != 0)
        get_buffer(BUFFER_DOWNSTREAM_DATA, 0, data_size, &data);
    uint32_t action = PROXY_PAUSE;
    if (str_find_byte(data, '\n') == data.size && !end_of_stream) {
        state->downstream_buffered = (uint32_t)data_size;
    } else if (has_quit_line(data)) {
        log_text(LOG_INFO, STR("tcp_rewrite: QUIT, closing the connection"));
        ProxyStatus status = proxy_close_stream(STREAM_DOWNSTREAM);
        if (status != PROXY_OK)
            log_format(LOG_ERROR, "tcp_rewrite: proxy_close_stream answered %u", status);
        state->downstream_buffered = (uint32_t)data_size;
    } else {
        upper_case((char *)data.data, data.size); /* ours: the host allocated it for us */
        proxy_set_buffer_bytes(BUFFER_DOWNSTREAM_DATA, 0, data_size, (const uint8_t *)data.data,
                               data.size);
        state->downstream_buffered = 0;
        action = PROXY_CONTINUE;
    }
    str_free(data);
    return action;
}

PROXY_EXPORT(proxy_on_upstream_data)
uint32_t proxy_on_upstream_data(uint32_t context_id, size_t data_size, uint32_t end_of_stream) {
    log_data(STR("upstream"), data_size, end_of_stream);
    ConnectionState *state = connection(context_id);
    if (state != NULL)
        state->upstream_bytes += (uint32_t)data_size;
    if (data_size != 0) {
        Str prefix = STR("[up] ");
        proxy_set_buffer_bytes(BUFFER_UPSTREAM_DATA, 0, 0, (const uint8_t *)prefix.data, prefix.size);
    }
    return PROXY_CONTINUE;
}

static Str peer_name(ProxyPeerType peer_type) {
    switch (peer_type) {
    case PEER_LOCAL:
        return STR("local");
    case PEER_REMOTE:
        return STR("remote");
    default:
        return STR("unknown");
    }
}

PROXY_EXPORT(proxy_on_downstream_connection_close)
void proxy_on_downstream_connection_close(uint32_t context_id, ProxyPeerType peer_type) {
    (void)context_id;
    log_format(LOG_INFO, "tcp_rewrite: downstream closed by %s peer", peer_name(peer_type));
}

PROXY_EXPORT(proxy_on_upstream_connection_close)
void proxy_on_upstream_connection_close(uint32_t context_id, ProxyPeerType peer_type) {
    (void)context_id;
    log_format(LOG_INFO, "tcp_rewrite: upstream closed by %s peer", peer_name(peer_type));
}

PROXY_EXPORT(proxy_on_log)
void proxy_on_log(uint32_t context_id) {
    ConnectionState *state = connection(context_id);
    if (state == NULL)
        return;
    log_format(LOG_INFO, "tcp_rewrite: log downstream=%u upstream=%u bytes", state->downstream_bytes,
               state->upstream_bytes);
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) { plugin_free(context_state_take(context_id)); }
