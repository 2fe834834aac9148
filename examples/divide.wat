;; Unsigned division, which traps when the divisor is zero: the trap's
;; backtrace names both functions and the byte offsets of their instructions.
(module
  (func $divide (param $a i32) (param $b i32) (result i32)
    (i32.div_u (local.get $a) (local.get $b)))
  (func $div (export "div") (param $a i32) (param $b i32) (result i32)
    (call $divide (local.get $a) (local.get $b))))
