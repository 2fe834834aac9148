;; Garbage-collected data: a polygon is an array of points, each a struct.
(module
  (type $point (struct (field $x f64) (field $y f64)))
  (type $polygon (array (ref $point)))

  (func $point (export "point") (param $x f64) (param $y f64) (result (ref $point))
    (struct.new $point (local.get $x) (local.get $y)))

  ;; A regular polygon with n corners on the unit circle's grid: a square for 4.
  (func (export "square") (result (ref $polygon))
    (array.new_fixed $polygon 4
      (call $point (f64.const 0) (f64.const 0))
      (call $point (f64.const 1) (f64.const 0))
      (call $point (f64.const 1) (f64.const 1))
      (call $point (f64.const 0) (f64.const 1))))

  ;; The shoelace formula: the area enclosed by the corners, in order.
  (func (export "area") (param $shape (ref null $polygon)) (result f64)
    (local $i i32) (local $n i32) (local $sum f64) (local $a (ref $point)) (local $b (ref $point))
    (local.set $n (array.len (local.get $shape)))
    (block $done
      (loop $corner
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (array.get $polygon (local.get $shape) (local.get $i)))
        (local.set $b (array.get $polygon (local.get $shape)
          (i32.rem_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))))
        (local.set $sum (f64.add (local.get $sum)
          (f64.sub (f64.mul (struct.get $point $x (local.get $a)) (struct.get $point $y (local.get $b)))
                   (f64.mul (struct.get $point $x (local.get $b)) (struct.get $point $y (local.get $a))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $corner)))
    (f64.abs (f64.mul (local.get $sum) (f64.const 0.5))))
)
