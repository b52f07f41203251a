;; Hostile: handle never returns (a busy loop, stopped only by the deadline or fuel).
(module $spin
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func $spin (export "handle") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
)
