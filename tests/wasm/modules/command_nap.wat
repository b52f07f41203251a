;; A command that sleeps 20 ms in WASI poll_oneoff, then answers {"slept":true}.
(module $napper
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "{\"slept\":true}")
  (func (export "_start")
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 20000000))
    (if (call $poll (i32.const 0) (i32.const 128) (i32.const 1) (i32.const 256)) (then unreachable))
    ;; exactly one event, for our subscription
    (if (i32.ne (i32.load (i32.const 256)) (i32.const 1)) (then unreachable))
    (i32.store (i32.const 300) (i32.const 512))
    (i32.store (i32.const 304) (i32.const 14))
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 308))))
)
