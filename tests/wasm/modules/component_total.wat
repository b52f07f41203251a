;; A component handler exporting `handle: func(input: string) -> result<string, string>`.
;; Its core module is core_total.wat's, lifted with the canonical ABI:
;;   {"fail"...     -> err "payment service unavailable"            (retryable)
;;   {"decline"...  -> err {"message":"card declined","permanent":true}
;;   anything else  -> ok {"total":N}, N = the sum of the integers in the input
(component
  (core module $total
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (data (i32.const 64) "{\"fail\"")
    (data (i32.const 80) "{\"decline\"")
    (data (i32.const 96) "payment service unavailable")
    (data (i32.const 128) "{\"message\":\"card declined\",\"permanent\":true}")
    (data (i32.const 176) "{\"total\":")

    (func $cabi_realloc (export "cabi_realloc") (param $old i32) (param $old_len i32) (param $align i32) (param $len i32) (result i32)
      (local $p i32) (local $need i32)
      (local.set $p (global.get $heap))
      (global.set $heap (i32.add (local.get $p) (local.get $len)))
      (local.set $need (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
      (if (i32.gt_s (local.get $need) (i32.const 0))
        (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get $need) (i32.const 16)) (i32.const 1))) (i32.const -1))
          (then unreachable))))
      (local.get $p))

    (func $starts_with (param $p i32) (param $n i32) (param $lit i32) (param $ln i32) (result i32)
      (local $i i32)
      (if (i32.lt_u (local.get $n) (local.get $ln)) (then (return (i32.const 0))))
      (block $match
        (loop $next
          (br_if $match (i32.ge_u (local.get $i) (local.get $ln)))
          (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                      (i32.load8_u (i32.add (local.get $lit) (local.get $i))))
            (then (return (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.const 1))

    (func $total (param $p i32) (param $n i32) (result i64)
      (local $end i32) (local $sum i64) (local $cur i64) (local $digit i32)
      (local.set $end (i32.add (local.get $p) (local.get $n)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $digit (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
          (if (i32.lt_u (local.get $digit) (i32.const 10))
            (then (local.set $cur (i64.add (i64.mul (local.get $cur) (i64.const 10)) (i64.extend_i32_u (local.get $digit)))))
            (else (local.set $sum (i64.add (local.get $sum) (local.get $cur))) (local.set $cur (i64.const 0))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next)))
      (i64.add (local.get $sum) (local.get $cur)))

    ;; Writes the decimal digits of $v at $dst; returns the end pointer.
    (func $write_u64 (param $dst i32) (param $v i64) (result i32)
      (local $len i32)
      (loop $digits
        (i32.store8 (i32.add (i32.const 200) (local.get $len))
          (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
        (local.set $len (i32.add (local.get $len) (i32.const 1)))
        (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
        (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
      (loop $copy
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (i32.store8 (local.get $dst) (i32.load8_u (i32.add (i32.const 200) (local.get $len))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br_if $copy (local.get $len)))
      (local.get $dst))

    (func $ret (param $tag i32) (param $ptr i32) (param $len i32) (result i32)
      (i32.store8 (i32.const 16) (local.get $tag))
      (i32.store (i32.const 20) (local.get $ptr))
      (i32.store (i32.const 24) (local.get $len))
      (i32.const 16))

    (func (export "handle") (param $p i32) (param $n i32) (result i32)
      (local $end i32)
      (if (call $starts_with (local.get $p) (local.get $n) (i32.const 64) (i32.const 7))
        (then (return (call $ret (i32.const 1) (i32.const 96) (i32.const 27)))))
      (if (call $starts_with (local.get $p) (local.get $n) (i32.const 80) (i32.const 10))
        (then (return (call $ret (i32.const 1) (i32.const 128) (i32.const 44)))))
      (memory.copy (i32.const 256) (i32.const 176) (i32.const 9))
      (local.set $end (call $write_u64 (i32.const 265) (call $total (local.get $p) (local.get $n))))
      (i32.store8 (local.get $end) (i32.const 125))
      (call $ret (i32.const 0) (i32.const 256) (i32.sub (i32.add (local.get $end) (i32.const 1)) (i32.const 256))))

    (func (export "cabi_post_handle") (param $retptr i32)
      (global.set $heap (i32.const 1024)))
  )
  (core instance $i (instantiate $total))
  (func (export "handle") (param "input" string) (result (result string (error string)))
    (canon lift (core func $i "handle")
      (memory (core memory $i "memory"))
      (realloc (core func $i "cabi_realloc"))
      (post-return (core func $i "cabi_post_handle"))))
)
