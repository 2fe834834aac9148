/*
 * header_rewrite: edits request headers one at a time and stamps the response.
 *
 * Plugin configuration (buffer 7): "NAME=VALUE", the header to add to every request;
 * empty means "x-added=default". Anything else without '=' (or with an empty NAME) is
 * rejected: proxy_on_configure returns false and the plugin does not start.
 *
 * Request headers: adds NAME: VALUE; rewrites a :path starting with "/old/" to "/new/...";
 * removes x-remove-me; logs how many headers the request had (read as one pairs-encoded map).
 * Response headers: adds x-original-path with the request's :path as it arrived.
 */
#include "proxy_wasm.h"

static Str configuration;      /* the raw configuration bytes, owned */
static Str added_header_name;  /* slices of `configuration` (or literals) */
static Str added_header_value;

typedef struct {
    Str original_path; /* owned; size 0 when the request had no :path */
} StreamState;

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    added_header_name = STR("x-added");
    added_header_value = STR("default");
    str_free(configuration);
    configuration = (Str){0};
    if (configuration_size == 0
        || !get_buffer(BUFFER_PLUGIN_CONFIGURATION, 0, configuration_size, &configuration)
        || configuration.size == 0)
        return 1;
    size_t equals = str_find_byte(configuration, '=');
    if (equals == 0 || equals == configuration.size) {
        log_text(LOG_ERROR, STR("header_rewrite: bad configuration, expected NAME=VALUE"));
        return 0;
    }
    added_header_name = str_slice(configuration, 0, equals);
    added_header_value = str_slice(configuration, equals + 1, configuration.size);
    return 1;
}

static void log_header_count(void) {
    uint8_t *pairs = NULL;
    size_t size = 0;
    if (proxy_get_header_map_pairs(MAP_HTTP_REQUEST_HEADERS, &pairs, &size) != PROXY_OK)
        return;
    TextBuilder line = {0};
    text_append(&line, STR("header_rewrite: request has "));
    text_append_u64(&line, header_pairs_count(pairs, size));
    text_append(&line, STR(" headers"));
    log_text(LOG_INFO, text_view(&line));
    text_free(&line);
    plugin_free(pairs);
}

static void rewrite_path(Str path) {
    Str old_prefix = STR("/old/");
    if (!str_starts_with(path, old_prefix))
        return;
    TextBuilder new_path = {0};
    text_append(&new_path, STR("/new/"));
    text_append(&new_path, str_slice(path, old_prefix.size, path.size));
    replace_header(MAP_HTTP_REQUEST_HEADERS, STR(":path"), text_view(&new_path));

    TextBuilder line = {0};
    text_append(&line, STR("header_rewrite: :path "));
    text_append(&line, path);
    text_append(&line, STR(" -> "));
    text_append(&line, text_view(&new_path));
    log_text(LOG_INFO, text_view(&line));
    text_free(&line);
    text_free(&new_path);
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    log_header_count();
    Str path;
    if (get_header(MAP_HTTP_REQUEST_HEADERS, STR(":path"), &path)) {
        rewrite_path(path);
        StreamState *state = context_state(context_id, sizeof(StreamState));
        if (state != NULL) {
            str_free(state->original_path);
            state->original_path = path;
        } else {
            str_free(path);
        }
    }
    add_header(MAP_HTTP_REQUEST_HEADERS, added_header_name, added_header_value);
    remove_header(MAP_HTTP_REQUEST_HEADERS, STR("x-remove-me"));
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    StreamState *state = context_state(context_id, sizeof(StreamState));
    if (state != NULL && state->original_path.size != 0)
        add_header(MAP_HTTP_RESPONSE_HEADERS, STR("x-original-path"), state->original_path);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) {
    StreamState *state = context_state_take(context_id);
    if (state != NULL)
        str_free(state->original_path);
    plugin_free(state);
}
