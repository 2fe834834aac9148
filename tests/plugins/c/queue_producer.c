/*
 * queue_producer: an HTTP filter that feeds a shared queue, usually one a service in another VM
 * registered (see queue_consumer).
 *
 * Plugin configuration: "VM_ID/QUEUE_NAME", split at the first '/'; without a '/', the whole
 * text is the queue name and the VM id is "". Empty means "/paths" (VM "", queue "paths").
 *
 * Request headers: resolves the queue (every time: the consumer may have started since) and
 * enqueues the request's :path (empty when it has none); adds "x-enqueued: yes" or
 * "x-enqueued: no" and continues.
 */
#include "proxy_wasm.h"

static Str configuration; /* owned */
static Str vm_id;         /* both point into configuration */
static Str queue_name;

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configuration, configuration_size);
    vm_id = (Str){0};
    queue_name = str_or(configuration, STR("paths"));
    str_split(configuration, '/', &vm_id, &queue_name);
    if (queue_name.size == 0) {
        log_format(LOG_ERROR, "queue_producer: bad configuration %s, expected VM_ID/QUEUE_NAME",
                   configuration);
        return 0;
    }
    log_format(LOG_INFO, "queue_producer: sending paths to queue %s in vm %s", queue_name,
               vm_id.size ? vm_id : STR("\"\""));
    return 1;
}

static bool enqueue_path(void) {
    uint32_t queue_id = 0;
    ProxyStatus status = proxy_resolve_shared_queue(vm_id.data, vm_id.size, queue_name.data,
                                                    queue_name.size, &queue_id);
    Str shown_vm_id = vm_id.size ? vm_id : STR("\"\"");
    if (status == PROXY_NOT_FOUND) {
        log_format(LOG_WARN, "queue_producer: no queue %s in vm %s", queue_name, shown_vm_id);
        return false;
    }
    if (status != PROXY_OK) {
        log_format(LOG_ERROR, "queue_producer: proxy_resolve_shared_queue answered %u", status);
        return false;
    }
    Str path = {0};
    get_header(MAP_HTTP_REQUEST_HEADERS, STR(":path"), &path);
    status = proxy_enqueue_shared_queue(queue_id, (const uint8_t *)path.data, path.size);
    if (status == PROXY_OK)
        log_format(LOG_INFO, "queue_producer: enqueued %s", path);
    else
        log_format(LOG_ERROR, "queue_producer: proxy_enqueue_shared_queue answered %u", status);
    str_free(path);
    return status == PROXY_OK;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-enqueued"), enqueue_path() ? STR("yes") : STR("no"));
    return PROXY_CONTINUE;
}
