"""The engine: decode, parse, validate, instantiate and run WebAssembly modules."""
