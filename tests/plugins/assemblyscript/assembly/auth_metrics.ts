// auth_metrics: an HTTP call with success and failure handling, and counters, with the
// AssemblyScript SDK.
//
// Root id "auth_metrics". Plugin configuration: the cluster to call; empty means "auth".
// Counters, defined in onConfigure: auth_metrics.allowed, auth_metrics.denied,
// auth_metrics.failed.
//
// Request headers: GET /verify to the cluster (":authority: auth", forwarding authorization
// when present), then StopIteration until the answer. If the call cannot even be dispatched:
// failed +1 and local reply 503 "auth_dispatch_failed" at once.
// The answer (the SDK routes it from the root context back to the stream and makes the stream
// the effective context):
//   - no headers (failed/timed out): failed +1, local reply 503 "auth_unavailable",
//     body "auth service unavailable\n";
//   - ":status: 200": allowed +1, adds request header x-user with the call's x-user response
//     header, logs "auth_metrics: allowed <user>, <n> body bytes", resumes the request;
//   - anything else: denied +1, local reply 403 "auth_denied", body "denied by auth service\n",
//     header x-auth-status: <status>.

export * from "@solo-io/proxy-runtime/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, GrpcStatusValues, HeaderPair, log,
  LogLevelValues, registerRootContext, RootContext, send_local_response, stream_context,
} from "@solo-io/proxy-runtime";
import { BufferTypeValues, get_buffer_bytes, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import { readPluginConfiguration } from "./configuration";

const CALL_TIMEOUT_MILLISECONDS: u32 = 5000;

function pair(key: string, value: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(key), String.UTF8.encode(value));
}

function reply(status: u32, details: string, body: string, headers: HeaderPair[]): void {
  send_local_response(status, details, String.UTF8.encode(body), headers, GrpcStatusValues.InvalidCode);
}

class AuthMetricsRoot extends RootContext {
  cluster: string = "auth";
  allowed: Counter | null = null;
  denied: Counter | null = null;
  failed: Counter | null = null;

  createContext(context_id: u32): Context {
    return new AuthMetrics(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const configured = readPluginConfiguration(configuration_size);
    if (configured.length > 0) {
      this.cluster = configured;
    }
    // Metrics are defined here, not at module start: hosts refuse most calls during start-up.
    this.allowed = new Counter("auth_metrics.allowed");
    this.denied = new Counter("auth_metrics.denied");
    this.failed = new Counter("auth_metrics.failed");
    log(LogLevelValues.info, "auth_metrics: calling cluster " + this.cluster);
    return true;
  }
}

// The SDK's callbacks cannot be closures (AssemblyScript 0.14), so the stream comes back as
// `origin_context`.
function onAuthResponse(origin_context: Context, header_count: u32, body_size: usize, trailer_count: u32): void {
  const root = origin_context.root_context as AuthMetricsRoot;
  if (header_count == 0) {
    (root.failed as Counter).increment(1);
    log(LogLevelValues.warn, "auth_metrics: auth service unavailable");
    reply(503, "auth_unavailable", "auth service unavailable\n", []);
    return;
  }
  const status = stream_context.headers.http_callback.get(":status");
  if (status == "200") {
    (root.allowed as Counter).increment(1);
    const user = stream_context.headers.http_callback.get("x-user");
    const body = get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, body_size as u32);
    stream_context.headers.request.add("x-user", user);
    log(LogLevelValues.info, "auth_metrics: allowed " + user + ", " + body.byteLength.toString() + " body bytes");
    origin_context.continueRequest();
    return;
  }
  (root.denied as Counter).increment(1);
  log(LogLevelValues.info, "auth_metrics: denied, auth service answered " + status);
  reply(403, "auth_denied", "denied by auth service\n", [pair("x-auth-status", status)]);
}

class AuthMetrics extends Context {
  constructor(context_id: u32, root_context: AuthMetricsRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(header_count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as AuthMetricsRoot;
    const headers: HeaderPair[] = [pair(":method", "GET"), pair(":path", "/verify"), pair(":authority", "auth")];
    const authorization = stream_context.headers.request.get("authorization");
    if (authorization.length > 0) {
      headers.push(pair("authorization", authorization));
    }
    const result = root.httpCall(root.cluster, headers, new ArrayBuffer(0), [], CALL_TIMEOUT_MILLISECONDS, this, onAuthResponse);
    if (result != WasmResultValues.Ok) {
      (root.failed as Counter).increment(1);
      log(LogLevelValues.error, "auth_metrics: dispatch failed with status " + result.toString());
      reply(503, "auth_dispatch_failed", "auth service unavailable\n", []);
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32): RootContext => new AuthMetricsRoot(context_id), "auth_metrics");
