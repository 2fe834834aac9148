// Host calls the SDK (solo-io proxy-runtime 0.1.8) wraps wrongly, made through the SDK's own
// import declarations, and small helpers the filters share.
//
// The SDK's get_shared_data(key, value) passes the ArrayBuffer `value` as the address for the
// returned data pointer and its byteLength as the address for the returned size, and never
// returns the CAS; its set_shared_data(key) sends the addresses of its internal result slots as
// the value and a pointer as the CAS. Neither can read or write a value. Its
// dequeue_shared_queue does not compile with AssemblyScript 0.14.9 (error TS2564:
// DequeueSharedQueueResult.data has no initializer). So these helpers call the three host
// functions directly, as an SDK user has to.
import * as imports from "@solo-io/proxy-runtime/imports";
import { free } from "@solo-io/proxy-runtime/malloc";
import { Reference, WasmResultValues } from "@solo-io/proxy-runtime/runtime";

export class SharedValue {
  status: WasmResultValues = WasmResultValues.Ok;
  value: string = "";
  cas: u32 = 0;
}

// Where the host writes a buffer it returns: the address and size of a block it allocated
// with the SDK's malloc (address 0 for an empty result).
class HostBuffer {
  data: Reference<usize> = new Reference<usize>();
  size: Reference<usize> = new Reference<usize>();

  // The bytes as UTF-8 text; releases the block.
  take(): string {
    if (this.data.data == 0) {
      return "";
    }
    const text = String.UTF8.decodeUnsafe(this.data.data, this.size.data);
    free(this.data.data);
    return text;
  }
}

export function getSharedData(key: string): SharedValue {
  const keyBytes = String.UTF8.encode(key);
  const buffer = new HostBuffer();
  const cas = new Reference<u32>();
  const result = new SharedValue();
  result.status = imports.proxy_get_shared_data(changetype<usize>(keyBytes), keyBytes.byteLength,
    buffer.data.ptr(), buffer.size.ptr(), cas.ptr());
  if (result.status == WasmResultValues.Ok) {
    result.cas = cas.data;
    result.value = buffer.take();
  }
  return result;
}

export class QueueItem {
  status: WasmResultValues = WasmResultValues.Ok;
  value: string = "";
}

export function dequeueSharedQueue(queueId: u32): QueueItem {
  const buffer = new HostBuffer();
  const item = new QueueItem();
  item.status = imports.proxy_dequeue_shared_queue(queueId, buffer.data.ptr(), buffer.size.ptr());
  if (item.status == WasmResultValues.Ok) {
    item.value = buffer.take();
  }
  return item;
}

export function setSharedData(key: string, value: string, cas: u32): WasmResultValues {
  const keyBytes = String.UTF8.encode(key);
  const valueBytes = String.UTF8.encode(value);
  return imports.proxy_set_shared_data(changetype<usize>(keyBytes), keyBytes.byteLength,
    changetype<usize>(valueBytes), valueBytes.byteLength, cas);
}

// A decimal number that fits 32 bits, or -1 for anything else (empty, signs, spaces, too big).
export function parseDecimal(text: string): i64 {
  if (text.length == 0) {
    return -1;
  }
  let value: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) {
      return -1;
    }
    value = value * 10 + digit;
    if (value > 0xffffffff) {
      return -1;
    }
  }
  return value;
}
