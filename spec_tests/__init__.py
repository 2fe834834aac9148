"""The conformance harness: the official WebAssembly testsuite, one pytest
test per .wast file, with the known failures listed in expected_failures.toml."""
