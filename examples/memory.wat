;; A loop over linear memory: fill(n) stores the squares 0, 1, 4, ... as
;; 32-bit words from address 0, sum_of_squares(n) fills and adds them back.
;; One page holds 16384 words; more is an out-of-bounds trap.
(module
  (memory (export "memory") 1)
  (func $fill (export "fill") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.shl (local.get $i) (i32.const 2))
                   (i32.mul (local.get $i) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "sum_of_squares") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (call $fill (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum)
                                 (i32.load (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum)))
