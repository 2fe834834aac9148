;; A module that parses but does not validate: i64.add needs two i64
;; operands, and $count is an i32.  The error points at the instruction.
(module
  (func $total (export "total") (param $count i32) (param $sum i64) (result i64)
    local.get $count
    local.get $sum
    i64.add))
