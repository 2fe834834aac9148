;; A WASI reactor under the old module name: _initialize must run before add.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "initialized\n")
  (global $base (mut i32) (i32.const 0))
  (func (export "_initialize")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (global.set $base (i32.const 40)))
  (func (export "add") (param i32) (result i32) (i32.add (global.get $base) (local.get 0)))
  (func (export "quit") (param i32) (result i32) (call $proc_exit (local.get 0)) (i32.const 0)))
