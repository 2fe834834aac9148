/*
 * queue_consumer: a service (a plugin with only a root context, like Envoy's bootstrap Wasm
 * services) that drains a shared queue whenever the host says it has items.
 *
 * Plugin configuration: the queue name; empty means "paths". Configure defines the counter
 * "queue_consumer.items" and registers the queue in this VM's id; either failing fails the
 * plugin.
 *
 * proxy_on_queue_ready(root, id) for its queue dequeues until EMPTY: each item is logged,
 * counted, and kept in the VM's shared data as "last_item".
 */
#include "proxy_wasm.h"

static uint32_t queue_id;
static bool registered;
static uint32_t items_counter;

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    Str configured = get_plugin_configuration(configuration_size);
    Str name = str_or(configured, STR("paths"));
    Str metric = STR("queue_consumer.items");
    ProxyStatus status = proxy_define_metric(METRIC_COUNTER, metric.data, metric.size, &items_counter);
    if (status != PROXY_OK) {
        log_format(LOG_ERROR, "queue_consumer: cannot define metric %s, status %u", metric, status);
    } else {
        status = proxy_register_shared_queue(name.data, name.size, &queue_id);
        if (status == PROXY_OK)
            log_format(LOG_INFO, "queue_consumer: registered queue %s as %u", name, queue_id);
        else
            log_format(LOG_ERROR, "queue_consumer: cannot register queue %s, status %u", name, status);
    }
    str_free(configured);
    registered = status == PROXY_OK;
    return registered;
}

static void keep_last_item(Str item) {
    ProxyStatus status = set_shared_data(STR("last_item"), item, 0);
    if (status != PROXY_OK)
        log_format(LOG_WARN, "queue_consumer: cannot set last_item, status %u", status);
}

PROXY_EXPORT(proxy_on_queue_ready)
void proxy_on_queue_ready(uint32_t root_context_id, uint32_t ready_queue_id) {
    (void)root_context_id;
    if (!registered || ready_queue_id != queue_id) {
        log_format(LOG_WARN, "queue_consumer: queue %u is not mine", ready_queue_id);
        return;
    }
    uint32_t count = 0;
    for (;;) {
        Str item = {0};
        ProxyStatus status = dequeue_shared_queue(queue_id, &item);
        if (status == PROXY_EMPTY)
            break;
        if (status != PROXY_OK) {
            log_format(LOG_ERROR, "queue_consumer: proxy_dequeue_shared_queue answered %u", status);
            return;
        }
        count++;
        log_format(LOG_INFO, "queue_consumer: got %s", item);
        proxy_increment_metric(items_counter, 1);
        keep_last_item(item);
        str_free(item);
    }
    log_format(LOG_INFO, "queue_consumer: queue %u drained after %u items", queue_id, count);
}
