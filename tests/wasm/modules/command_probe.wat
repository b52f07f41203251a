;; Probes the sandbox's capabilities; the input picks what to try:
;;   {"op":"env"...   -> {"count":N,"first":"NAME=value"} (or "first":null): the environment it sees
;;   {"op":"read"...  -> {"content":"..."}: in.txt from the first preopened directory
;;                       (exit 3 and "cannot open in.txt: errno N" on stderr when refused)
;;   {"op":"write"... -> {"written":true}: creates out.txt in the first preopened directory
;;                       (exit 4 and "cannot create out.txt: errno N" on stderr when refused)
(module $probe
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  ;; 0..64 scratch (iovecs, counters); 200..240 digits; 512.. literals; 4096.. output; 16384.. input; 32768.. file/env data
  (data (i32.const 512) "{\"op\":\"env\"")
  (data (i32.const 528) "{\"op\":\"read\"")
  (data (i32.const 544) "{\"op\":\"write\"")
  (data (i32.const 560) "in.txt")
  (data (i32.const 568) "out.txt")
  (data (i32.const 576) "written by the probe\n")
  (data (i32.const 600) "{\"count\":")
  (data (i32.const 616) ",\"first\":")
  (data (i32.const 632) "null}")
  (data (i32.const 640) "{\"content\":\"")
  (data (i32.const 656) "{\"written\":true}")
  (data (i32.const 680) "cannot open in.txt: errno ")
  (data (i32.const 712) "cannot create out.txt: errno ")

  (func $write (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))

  (func $read_all (param $fd i32) (param $dst i32) (param $cap i32) (result i32)
    (local $total i32) (local $n i32)
    (block $eof
      (loop $more
        (i32.store (i32.const 0) (i32.add (local.get $dst) (local.get $total)))
        (i32.store (i32.const 4) (i32.sub (local.get $cap) (local.get $total)))
        (if (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)) (then (call $proc_exit (i32.const 2))))
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

  (func $write_u32 (param $dst i32) (param $v i32) (result i32)
    (local $len i32)
    (loop $digits
      (i32.store8 (i32.add (i32.const 200) (local.get $len)) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (loop $copy
      (local.set $len (i32.sub (local.get $len) (i32.const 1)))
      (i32.store8 (local.get $dst) (i32.load8_u (i32.add (i32.const 200) (local.get $len))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
      (br_if $copy (local.get $len)))
    (local.get $dst))

  ;; Copies $len bytes to $dst; returns the end pointer.
  (func $put (param $dst i32) (param $src i32) (param $len i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $len))
    (i32.add (local.get $dst) (local.get $len)))

  (func $fail (param $code i32) (param $msg i32) (param $msg_len i32) (param $errno i32)
    (local $end i32)
    (local.set $end (call $put (i32.const 4096) (local.get $msg) (local.get $msg_len)))
    (local.set $end (call $write_u32 (local.get $end) (local.get $errno)))
    (i32.store8 (local.get $end) (i32.const 10))
    (drop (call $write (i32.const 2) (i32.const 4096) (i32.sub (i32.add (local.get $end) (i32.const 1)) (i32.const 4096))))
    (call $proc_exit (local.get $code)))

  (func $env
    (local $count i32) (local $end i32) (local $first i32) (local $len i32)
    (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (local.set $count (i32.load (i32.const 16)))
    (local.set $end (call $put (i32.const 4096) (i32.const 600) (i32.const 9)))
    (local.set $end (call $write_u32 (local.get $end) (local.get $count)))
    (local.set $end (call $put (local.get $end) (i32.const 616) (i32.const 9)))
    (if (i32.eqz (local.get $count))
      (then (local.set $end (call $put (local.get $end) (i32.const 632) (i32.const 5))))
      (else
        ;; pointers at 32768, strings at 36864
        (drop (call $environ_get (i32.const 32768) (i32.const 36864)))
        (local.set $first (i32.load (i32.const 32768)))
        (block $nul
          (loop $scan
            (br_if $nul (i32.eqz (i32.load8_u (i32.add (local.get $first) (local.get $len)))))
            (local.set $len (i32.add (local.get $len) (i32.const 1)))
            (br $scan)))
        (i32.store8 (local.get $end) (i32.const 34))
        (local.set $end (call $put (i32.add (local.get $end) (i32.const 1)) (local.get $first) (local.get $len)))
        (i32.store16 (local.get $end) (i32.const 0x7d22))
        (local.set $end (i32.add (local.get $end) (i32.const 2)))))
    (drop (call $write (i32.const 1) (i32.const 4096) (i32.sub (local.get $end) (i32.const 4096)))))

  (func $read_file
    (local $errno i32) (local $fd i32) (local $n i32) (local $end i32)
    ;; rights: fd_read (bit 1)
    (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 560) (i32.const 6)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 24)))
    (if (local.get $errno) (then (call $fail (i32.const 3) (i32.const 680) (i32.const 26) (local.get $errno))))
    (local.set $fd (i32.load (i32.const 24)))
    (local.set $n (call $read_all (local.get $fd) (i32.const 32768) (i32.const 16384)))
    (drop (call $fd_close (local.get $fd)))
    (local.set $end (call $put (i32.const 4096) (i32.const 640) (i32.const 12)))
    (local.set $end (call $put (local.get $end) (i32.const 32768) (local.get $n)))
    (i32.store16 (local.get $end) (i32.const 0x7d22))
    (drop (call $write (i32.const 1) (i32.const 4096) (i32.sub (i32.add (local.get $end) (i32.const 2)) (i32.const 4096)))))

  (func $write_file
    (local $errno i32) (local $fd i32)
    ;; oflags: creat (1) | trunc (8); rights: fd_write (bit 6)
    (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 568) (i32.const 7)
      (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 24)))
    (if (local.get $errno) (then (call $fail (i32.const 4) (i32.const 712) (i32.const 29) (local.get $errno))))
    (local.set $fd (i32.load (i32.const 24)))
    (local.set $errno (call $write (local.get $fd) (i32.const 576) (i32.const 21)))
    (if (local.get $errno) (then (call $fail (i32.const 4) (i32.const 712) (i32.const 29) (local.get $errno))))
    (drop (call $fd_close (local.get $fd)))
    (drop (call $write (i32.const 1) (i32.const 656) (i32.const 16))))

  (func (export "_start")
    (local $n i32)
    (local.set $n (call $read_all (i32.const 0) (i32.const 16384) (i32.const 16384)))
    (if (call $starts_with (i32.const 16384) (local.get $n) (i32.const 512) (i32.const 11)) (then (call $env) (return)))
    (if (call $starts_with (i32.const 16384) (local.get $n) (i32.const 528) (i32.const 12)) (then (call $read_file) (return)))
    (if (call $starts_with (i32.const 16384) (local.get $n) (i32.const 544) (i32.const 13)) (then (call $write_file) (return)))
    (call $proc_exit (i32.const 64)))
)
