// tick_hits: timer ticks and shared data with compare-and-swap, with the AssemblyScript SDK.
//
// Root id "tick_hits". Plugin configuration: the tick period in ms (decimal); empty means 1000.
// onConfigure sets the tick period with the SDK's set_tick_period_milliseconds, which aborts
// the plugin on any status but OK, and creates the shared key "tick_hits.hits" with "0" when
// it is missing.
//
// Every request reads "tick_hits.hits" and its CAS and waits (StopIteration) for the next
// tick, which resumes every waiting request (effective context + continueRequest) after
// adding "x-tick: <tick number>". The response writes hits + 1 with the CAS read at request
// time; when another stream wrote in between (two requests resumed by the same tick), the
// host answers CAS_MISMATCH and the filter reads again and retries. The response gets
// "x-hits: <value written>".

export * from "@solo-io/proxy-runtime/proxy";
import {
  Context, FilterHeadersStatusValues, log, LogLevelValues, registerRootContext, RootContext,
  stream_context, WasmResultValues,
} from "@solo-io/proxy-runtime";
import { set_tick_period_milliseconds } from "@solo-io/proxy-runtime/runtime";
import { readPluginConfiguration } from "./configuration";
import { getSharedData, parseDecimal, setSharedData, SharedValue } from "./host_calls";

const HITS_KEY = "tick_hits.hits";
const MAX_CAS_ATTEMPTS = 100;

// The hits counter: NOT_FOUND reads as 0 with CAS 0, a value that is not a number as 0.
class Hits {
  status: WasmResultValues = WasmResultValues.Ok;
  value: u32 = 0;
  cas: u32 = 0;
}

function readHits(): Hits {
  const shared: SharedValue = getSharedData(HITS_KEY);
  const hits = new Hits();
  if (shared.status == WasmResultValues.NotFound) {
    return hits;
  }
  hits.status = shared.status;
  if (shared.status != WasmResultValues.Ok) {
    log(LogLevelValues.error, "tick_hits: get_shared_data answered " + shared.status.toString());
    return hits;
  }
  const parsed = parseDecimal(shared.value);
  hits.value = parsed < 0 ? 0 : <u32>parsed;
  hits.cas = shared.cas;
  return hits;
}

class TickHitsRoot extends RootContext {
  periodMilliseconds: u32 = 1000;
  ticks: u32 = 0;
  waiting: TickHits[] = [];

  createContext(context_id: u32): Context {
    return new TickHits(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const configured = readPluginConfiguration(configuration_size);
    if (configured.length > 0) {
      const period = parseDecimal(configured);
      if (period <= 0) {
        log(LogLevelValues.error, "tick_hits: bad configuration " + configured + ", expected a tick period in ms");
        return false;
      }
      this.periodMilliseconds = <u32>period;
    }
    set_tick_period_milliseconds(this.periodMilliseconds);
    log(LogLevelValues.info, "tick_hits: tick period " + this.periodMilliseconds.toString() + " ms");
    if (getSharedData(HITS_KEY).status == WasmResultValues.NotFound) {
      const created = setSharedData(HITS_KEY, "0", 0);
      if (created != WasmResultValues.Ok) {
        log(LogLevelValues.error, "tick_hits: cannot create " + HITS_KEY + ", status " + created.toString());
        return false;
      }
    }
    return true;
  }

  onTick(): void {
    this.ticks++;
    const waiting = this.waiting;
    this.waiting = [];
    log(LogLevelValues.info, "tick_hits: tick " + this.ticks.toString() + ", resuming " + waiting.length.toString());
    for (let i = 0; i < waiting.length; i++) {
      const stream = waiting[i];
      stream.setEffectiveContext();
      stream_context.headers.request.add("x-tick", this.ticks.toString());
      stream.continueRequest();
    }
  }
}

class TickHits extends Context {
  hits: Hits = new Hits();
  waited: bool = false; // the request read the counter and waited: its response counts it

  constructor(context_id: u32, root_context: TickHitsRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(header_count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    this.hits = readHits();
    if (this.hits.status != WasmResultValues.Ok) {
      return FilterHeadersStatusValues.Continue;
    }
    log(LogLevelValues.info, "tick_hits: read " + this.hits.value.toString() + " (cas " + this.hits.cas.toString() + "), waiting for a tick");
    this.waited = true;
    (this.root_context as TickHitsRoot).waiting.push(this);
    return FilterHeadersStatusValues.StopIteration;
  }

  onResponseHeaders(header_count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (!this.waited) {
      return FilterHeadersStatusValues.Continue;
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const written = this.hits.value + 1;
      const status = setSharedData(HITS_KEY, written.toString(), this.hits.cas);
      if (status == WasmResultValues.Ok) {
        log(LogLevelValues.info, "tick_hits: hits " + this.hits.value.toString() + " -> " + written.toString());
        stream_context.headers.response.add("x-hits", written.toString());
        return FilterHeadersStatusValues.Continue;
      }
      if (status != WasmResultValues.CasMismatch) {
        log(LogLevelValues.error, "tick_hits: set_shared_data answered " + status.toString());
        return FilterHeadersStatusValues.Continue;
      }
      log(LogLevelValues.warn, "tick_hits: cas mismatch, retrying");
      this.hits = readHits();
      if (this.hits.status != WasmResultValues.Ok) {
        return FilterHeadersStatusValues.Continue;
      }
    }
    log(LogLevelValues.error, "tick_hits: gave up after " + MAX_CAS_ATTEMPTS.toString() + " cas mismatches");
    return FilterHeadersStatusValues.Continue;
  }

  // A request that ends while waiting (its client went away) is not resumed.
  onDelete(): void {
    const root = this.root_context as TickHitsRoot;
    const index = root.waiting.indexOf(this);
    if (index >= 0) {
      root.waiting.splice(index, 1);
    }
  }
}

registerRootContext((context_id: u32): RootContext => new TickHitsRoot(context_id), "tick_hits");
