// Reading the plugin configuration without RootContext.onConfigure.
//
// The SDK's own onConfigure (solo-io proxy-runtime 0.1.8) passes the configuration SIZE where
// proxy_get_buffer_bytes expects a pointer for the returned size, so the host writes 4 bytes at
// address <configuration size>, inside the module's static data. Our root contexts override
// onConfigure and read the buffer through the SDK's correct get_buffer_bytes wrapper instead.
import { BufferTypeValues, get_buffer_bytes } from "@solo-io/proxy-runtime/runtime";

export function readPluginConfiguration(configuration_size: u32): string {
  if (configuration_size == 0) {
    return "";
  }
  const bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
  return String.UTF8.decode(bytes);
}
