;; Hostile: a command that sleeps for a minute in WASI poll_oneoff (like sleep(60)),
;; then loops; the deadline must end the sleep.
(module $sleeper
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; one clock subscription at 0: tag 0 (clock) @8, id 1 (monotonic) @16, timeout 60 s @24
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 60000000000))
    (drop (call $poll (i32.const 0) (i32.const 128) (i32.const 1) (i32.const 256)))
    (loop $again (br $again)))
)
