;; A module with a typo, to show how a text-format error points at it.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get1))))
