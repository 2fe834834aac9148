;; Pauses every request at its headers and never continues it.
(module
  (func (export "proxy_abi_version_0_2_1"))
  (memory (export "memory") 1)
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1)))
