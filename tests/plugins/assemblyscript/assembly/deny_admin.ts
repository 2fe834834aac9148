// deny_admin: header rewriting and a local response, with the AssemblyScript SDK.
//
// Root id "deny_admin" (the host's plugin_root_id property must say so: the SDK picks the root
// context factory by it). Plugin configuration: the path prefix to deny; empty means "/admin".
//
// Request headers whose :path starts with the prefix: local reply 403, details "admin_denied",
// body "admin access denied\n", header x-denied-by: deny_admin; the filter returns
// StopIteration. Any other request: adds x-as-filter: deny_admin, sets x-checked-path to the
// :path (replace: added when absent), removes x-internal, and continues.
// Response headers (including those of its own local reply): adds x-powered-by: assemblyscript.

export * from "@solo-io/proxy-runtime/proxy";
import {
  Context, FilterHeadersStatusValues, GrpcStatusValues, HeaderPair, log, LogLevelValues,
  registerRootContext, RootContext, send_local_response, stream_context,
} from "@solo-io/proxy-runtime";
import { readPluginConfiguration } from "./configuration";

class DenyAdminRoot extends RootContext {
  deniedPrefix: string = "/admin";

  createContext(context_id: u32): Context {
    return new DenyAdmin(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const configured = readPluginConfiguration(configuration_size);
    if (configured.length > 0) {
      this.deniedPrefix = configured;
    }
    log(LogLevelValues.info, "deny_admin: denying paths under " + this.deniedPrefix);
    return true;
  }
}

class DenyAdmin extends Context {
  constructor(context_id: u32, root_context: DenyAdminRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(header_count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as DenyAdminRoot;
    const path = stream_context.headers.request.get(":path");
    if (path.startsWith(root.deniedPrefix)) {
      log(LogLevelValues.info, "deny_admin: denied " + path);
      const headers: HeaderPair[] = [
        new HeaderPair(String.UTF8.encode("x-denied-by"), String.UTF8.encode("deny_admin")),
      ];
      send_local_response(403, "admin_denied", String.UTF8.encode("admin access denied\n"),
        headers, GrpcStatusValues.InvalidCode);
      return FilterHeadersStatusValues.StopIteration;
    }
    stream_context.headers.request.add("x-as-filter", "deny_admin");
    stream_context.headers.request.replace("x-checked-path", path);
    stream_context.headers.request.remove("x-internal");
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(header_count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-powered-by", "assemblyscript");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new DenyAdminRoot(context_id), "deny_admin");
