/*
 * vm_counter: makes VM sharing, reconfiguration and reloads visible.
 *
 * The VM-wide request count is a global of the module, so every root context in the VM (every
 * plugin sharing it, and every configuration a plugin had) adds to the same count, while each
 * root context also keeps its own. A fresh VM (after a reload) starts again from 0.
 *
 * proxy_on_context_create(root, 0) reads the plugin_root_id property into the root's state;
 * streams remember their root. Configure accepts any configuration except the text "reject"
 * (returns false, so a reconfiguration to it is refused) and keeps it for the x-config header.
 * A request with "x-crash" traps in the function `crash`, failing every plugin of the VM.
 */
#include "proxy_wasm.h"

static uint32_t vm_requests; /* shared by every root context of this VM */

typedef struct {
    uint32_t root_context_id; /* a stream's root; 0 in the state of a root context itself */
    /* root contexts */
    Str root_id;       /* owned */
    Str configuration; /* owned */
    uint32_t requests;
} ContextState;

static ContextState *state_of(uint32_t context_id) {
    return context_state(context_id, sizeof(ContextState));
}

__attribute__((noinline)) static void crash(void) { __builtin_trap(); }

PROXY_EXPORT(proxy_on_context_create)
void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id) {
    ContextState *state = state_of(context_id);
    if (state == NULL)
        return;
    state->root_context_id = parent_context_id;
    if (parent_context_id == 0)
        get_property(STR("plugin_root_id"), &state->root_id);
}

PROXY_EXPORT(proxy_on_vm_start)
uint32_t proxy_on_vm_start(uint32_t root_context_id, size_t vm_configuration_size) {
    (void)vm_configuration_size;
    ContextState *root = state_of(root_context_id);
    log_format(LOG_INFO, "vm_counter: vm_start for root %s, vm count %u",
               root ? root->root_id : STR(""), vm_requests);
    return 1;
}

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    ContextState *root = state_of(root_context_id);
    if (root == NULL)
        return 0;
    Str configuration = get_plugin_configuration(configuration_size);
    if (str_equal(configuration, STR("reject"))) {
        log_format(LOG_WARN, "vm_counter: rejecting configuration %s", configuration);
        str_free(configuration);
        return 0;
    }
    str_free(root->configuration);
    root->configuration = configuration;
    log_format(LOG_INFO, "vm_counter: configured %s", configuration);
    return 1;
}

static void add_number_header(Str name, uint32_t number) {
    TextBuilder value = {0};
    text_format(&value, "%u", number);
    add_header(MAP_HTTP_REQUEST_HEADERS, name, text_view(&value));
    text_free(&value);
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    Str crash_header;
    if (get_header(MAP_HTTP_REQUEST_HEADERS, STR("x-crash"), &crash_header)) {
        str_free(crash_header);
        log_text(LOG_CRITICAL, STR("vm_counter: crashing on x-crash"));
        crash();
    }
    ContextState *stream = state_of(context_id);
    ContextState *root = stream && stream->root_context_id ? state_of(stream->root_context_id) : NULL;
    if (root == NULL)
        return PROXY_CONTINUE;
    vm_requests++;
    root->requests++;
    TextBuilder root_header = {0};
    text_format(&root_header, "x-root-count-%s", root->root_id);
    add_number_header(STR("x-vm-count"), vm_requests);
    add_number_header(text_view(&root_header), root->requests);
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-config"), root->configuration);
    text_free(&root_header);
    log_format(LOG_INFO, "vm_counter: request %u in the vm, %u for root %s", vm_requests,
               root->requests, root->root_id);
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) {
    ContextState *state = context_state_take(context_id);
    if (state == NULL)
        return;
    str_free(state->root_id);
    str_free(state->configuration);
    plugin_free(state);
}
