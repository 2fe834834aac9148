// queue_pair: both ends of a shared queue in one module, with the AssemblyScript SDK. The SDK
// picks the root context by the plugin_root_id property, so one module serves two roles:
//
// Root id "queue_sender" (an HTTP filter). Plugin configuration "VM_ID/QUEUE_NAME" (split at
// the first '/'; without one, the queue name in VM ""); empty means "/paths". Every request
// resolves the queue and enqueues its :path, then gets "x-as-enqueued: yes|no".
//
// Root id "queue_receiver" (a service: only a root context). Plugin configuration: the queue
// name; empty means "paths". onConfigure defines the counter "queue_receiver.items" and
// registers the queue; onQueueReady dequeues until EMPTY, logging and counting each item.
//
// The SDK's register_shared_queue and resolve_shared_queue take a `token: u32` that they pass
// to the host as the ADDRESS where it writes the queue id, so the filters pass the address of
// a Reference<u32>. Its enqueue_shared_queue is correct; its dequeue_shared_queue does not
// compile (see host_calls.ts). All of them return the status: nothing aborts.

export * from "@solo-io/proxy-runtime/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, log, LogLevelValues, registerRootContext,
  RootContext, stream_context, WasmResultValues,
} from "@solo-io/proxy-runtime";
import {
  enqueue_shared_queue, Reference, register_shared_queue, resolve_shared_queue,
} from "@solo-io/proxy-runtime/runtime";
import { readPluginConfiguration } from "./configuration";
import { dequeueSharedQueue } from "./host_calls";

function shownVmId(vmId: string): string {
  return vmId.length > 0 ? vmId : "\"\"";
}

class QueueSenderRoot extends RootContext {
  vmId: string = "";
  queueName: string = "paths";

  createContext(context_id: u32): Context {
    return new QueueSender(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const configured = readPluginConfiguration(configuration_size);
    if (configured.length > 0) {
      const slash = configured.indexOf("/");
      this.vmId = slash < 0 ? "" : configured.slice(0, slash);
      this.queueName = slash < 0 ? configured : configured.slice(slash + 1);
    }
    if (this.queueName.length == 0) {
      log(LogLevelValues.error, "queue_sender: bad configuration " + configured + ", expected VM_ID/QUEUE_NAME");
      return false;
    }
    log(LogLevelValues.info, "queue_sender: sending paths to queue " + this.queueName + " in vm " + shownVmId(this.vmId));
    return true;
  }
}

class QueueSender extends Context {
  constructor(context_id: u32, root_context: QueueSenderRoot) {
    super(context_id, root_context);
  }

  enqueuePath(): bool {
    const root = this.root_context as QueueSenderRoot;
    const queueId = new Reference<u32>();
    const resolved = resolve_shared_queue(root.vmId, root.queueName, <u32>queueId.ptr());
    if (resolved == WasmResultValues.NotFound) {
      log(LogLevelValues.warn, "queue_sender: no queue " + root.queueName + " in vm " + shownVmId(root.vmId));
      return false;
    }
    if (resolved != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_sender: resolve_shared_queue answered " + resolved.toString());
      return false;
    }
    const path = stream_context.headers.request.get(":path");
    const status = enqueue_shared_queue(queueId.data, String.UTF8.encode(path));
    if (status != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_sender: enqueue_shared_queue answered " + status.toString());
      return false;
    }
    log(LogLevelValues.info, "queue_sender: enqueued " + path);
    return true;
  }

  onRequestHeaders(header_count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.add("x-as-enqueued", this.enqueuePath() ? "yes" : "no");
    return FilterHeadersStatusValues.Continue;
  }
}

class QueueReceiverRoot extends RootContext {
  queueId: u32 = 0;
  registered: bool = false;
  items: Counter | null = null;

  onConfigure(configuration_size: u32): bool {
    const configured = readPluginConfiguration(configuration_size);
    const name = configured.length > 0 ? configured : "paths";
    this.items = new Counter("queue_receiver.items");
    const queueId = new Reference<u32>();
    const status = register_shared_queue(name, <u32>queueId.ptr());
    if (status != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_receiver: cannot register queue " + name + ", status " + status.toString());
      return false;
    }
    this.queueId = queueId.data;
    this.registered = true;
    log(LogLevelValues.info, "queue_receiver: registered queue " + name + " as " + this.queueId.toString());
    return true;
  }

  onQueueReady(token: u32): void {
    if (!this.registered || token != this.queueId) {
      log(LogLevelValues.warn, "queue_receiver: queue " + token.toString() + " is not mine");
      return;
    }
    let count: u32 = 0;
    while (true) {
      const item = dequeueSharedQueue(token);
      if (item.status == WasmResultValues.Empty) {
        break;
      }
      if (item.status != WasmResultValues.Ok) {
        log(LogLevelValues.error, "queue_receiver: proxy_dequeue_shared_queue answered " + item.status.toString());
        return;
      }
      count++;
      log(LogLevelValues.info, "queue_receiver: got " + item.value);
      (this.items as Counter).increment(1);
    }
    log(LogLevelValues.info, "queue_receiver: queue " + token.toString() + " drained after " + count.toString() + " items");
  }
}

registerRootContext((context_id: u32): RootContext => new QueueSenderRoot(context_id), "queue_sender");
registerRootContext((context_id: u32): RootContext => new QueueReceiverRoot(context_id), "queue_receiver");
