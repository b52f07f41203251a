;; A WASI command handler: JSON on stdin, JSON on stdout, logs on stderr.
;;   {"fail"...     -> "payment service unavailable" on stderr, exit 1   (retryable)
;;   {"decline"...  -> "card declined" on stderr, exit 100               (permanent)
;;   anything else  -> {"total":N} on stdout, N = the sum of the integers in the input
(module $total_command
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 64) "{\"fail\"")
  (data (i32.const 80) "{\"decline\"")
  (data (i32.const 96) "reading order\npayment service unavailable\n")
  (data (i32.const 144) "card declined\n")
  (data (i32.const 176) "{\"total\":")

  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Reads all of stdin to 1024..; returns its length.
  (func $read_stdin (result i32)
    (local $total i32) (local $n i32)
    (block $eof
      (loop $more
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $total)))
        (i32.store (i32.const 4) (i32.sub (i32.const 130000) (local.get $total)))
        (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)) (then (call $proc_exit (i32.const 2))))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $total (i32.add (local.get $total) (local.get $n)))
        (br $more)))
    (local.get $total))

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

  (func (export "_start")
    (local $n i32) (local $end i32)
    (local.set $n (call $read_stdin))
    (if (call $starts_with (i32.const 1024) (local.get $n) (i32.const 64) (i32.const 7))
      (then (call $write (i32.const 2) (i32.const 96) (i32.const 42)) (call $proc_exit (i32.const 1))))
    (if (call $starts_with (i32.const 1024) (local.get $n) (i32.const 80) (i32.const 10))
      (then (call $write (i32.const 2) (i32.const 144) (i32.const 14)) (call $proc_exit (i32.const 100))))
    (memory.copy (i32.const 256) (i32.const 176) (i32.const 9))
    (local.set $end (call $write_u64 (i32.const 265) (call $total (i32.const 1024) (local.get $n))))
    (i32.store8 (local.get $end) (i32.const 125))
    (call $write (i32.const 1) (i32.const 256) (i32.sub (i32.add (local.get $end) (i32.const 1)) (i32.const 256))))
)
