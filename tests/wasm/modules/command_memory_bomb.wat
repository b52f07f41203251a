;; Hostile: a command that grows memory until refused, then reports it and exits 1.
(module $bomb_command
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "allocation failed\n")
  (func (export "_start")
    (loop $grow
      (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1))
        (then
          (i32.store (i32.const 0) (i32.const 64))
          (i32.store (i32.const 4) (i32.const 18))
          (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
          (call $proc_exit (i32.const 1))))
      (br $grow)))
)
