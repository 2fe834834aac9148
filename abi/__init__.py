"""The proxy-wasm host (to come)."""
