;; A module whose import does not fit what the host provides: spectest's
;; print_i32 takes an i32, and this module would give it an i64.
(module
  (import "spectest" "print_i32" (func $print (param i64)))
  (func (export "main") (call $print (i64.const 42))))
