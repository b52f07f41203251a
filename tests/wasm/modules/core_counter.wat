;; Counts its calls: {"calls":N} where N is how many times this instance was called.
;; {"fail"... traps (after counting), to show an instance is replaced after a failure.
(module $call_counter
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 64) "{\"fail\"")
  (data (i32.const 176) "{\"calls\":")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func $starts_with_fail (param $p i32) (param $n i32) (result i32)
    (if (i32.lt_u (local.get $n) (i32.const 7)) (then (return (i32.const 0))))
    ;; the 7 bytes of {"fail" as two overlapping 4-byte words
    (i32.and
      (i32.eq (i32.load (local.get $p)) (i32.load (i32.const 64)))
      (i32.eq (i32.load offset=3 (local.get $p)) (i32.load (i32.const 67)))))
  (func (export "handle") (param $p i32) (param $n i32) (result i32)
    (local $v i32) (local $dst i32) (local $len i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (call $starts_with_fail (local.get $p) (local.get $n)) (then unreachable))
    (memory.copy (i32.const 256) (i32.const 176) (i32.const 9))
    (local.set $v (global.get $calls))
    (loop $digits
      (i32.store8 (i32.add (i32.const 200) (local.get $len)) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (local.set $dst (i32.const 265))
    (loop $copy
      (local.set $len (i32.sub (local.get $len) (i32.const 1)))
      (i32.store8 (local.get $dst) (i32.load8_u (i32.add (i32.const 200) (local.get $len))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
      (br_if $copy (local.get $len)))
    (i32.store8 (local.get $dst) (i32.const 125))
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 256))
    (i32.store (i32.const 24) (i32.sub (i32.add (local.get $dst) (i32.const 1)) (i32.const 256)))
    (i32.const 16))
)
