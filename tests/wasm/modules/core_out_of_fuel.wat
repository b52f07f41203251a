;; Counts to 2^31 then answers {}: fine without a fuel budget if given the time,
;; out of fuel with a small one.
(module $counter
  (memory (export "memory") 1)
  (data (i32.const 64) "{}")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (local $i i32)
    (loop $count
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $count (i32.lt_u (local.get $i) (i32.const 0x7fffffff))))
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 64))
    (i32.store (i32.const 24) (i32.const 2))
    (i32.const 16))
)
