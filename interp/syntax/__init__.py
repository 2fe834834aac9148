"""The abstract syntax of WebAssembly modules: types, the opcode table, the
module structure and the representation of values."""
