/*
 * quota: a proxy-wasm HTTP filter built with DWARF (clang -g -O0), for the tests of the
 * debugger over a proxy run (tests/debug/test_proxy_debugger.py) and the README's example.
 *
 * Each request is counted against the client its x-client header names; the plugin
 * configuration is how many requests a client may make (a decimal number, default 2).
 * A request within the quota gets an x-quota-left header; one past it gets a 429 local
 * reply. Requests without x-client pass untouched.
 */
#include "../../plugins/c/proxy_wasm.h"

#define MAX_CLIENTS 8
#define MAX_NAME 16

struct client {
    char name[MAX_NAME];
    int requests;
};

static struct client clients[MAX_CLIENTS];
static int client_count;
static int limit = 2;

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    Str configuration = get_plugin_configuration(configuration_size);
    uint32_t parsed = 0;
    if (configuration.size != 0 && !str_parse_u32(configuration, &parsed)) {
        log_text(LOG_ERROR, STR("quota: the configuration must be a number of requests"));
        str_free(configuration);
        return 0;
    }
    if (configuration.size != 0)
        limit = (int)parsed;
    str_free(configuration);
    return 1;
}

static struct client *find_client(Str name) {
    size_t length = name.size < MAX_NAME - 1 ? name.size : MAX_NAME - 1;
    for (int index = 0; index < client_count; index++) {
        struct client *known = &clients[index];
        if (strlen(known->name) == length && memcmp(known->name, name.data, length) == 0)
            return known;
    }
    struct client *added = &clients[client_count % MAX_CLIENTS];
    if (client_count < MAX_CLIENTS)
        client_count++;
    memcpy(added->name, name.data, length);
    added->name[length] = '\0';
    added->requests = 0;
    return added;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    Str name;
    if (!get_header(MAP_HTTP_REQUEST_HEADERS, STR("x-client"), &name))
        return PROXY_CONTINUE;
    struct client *client = find_client(name);
    str_free(name);
    client->requests = client->requests + 1;
    int left = limit - client->requests;
    if (left < 0) {
        log_format(LOG_WARN, "quota: %s is over its quota", (Str){client->name, strlen(client->name)});
        send_local_response(429, STR("quota_exceeded"), STR("slow down\n"), NULL, 0);
        return PROXY_PAUSE;
    }
    TextBuilder value = {0};
    text_append_u64(&value, (uint64_t)left);
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-quota-left"), text_view(&value));
    text_free(&value);
    return PROXY_CONTINUE;
}
