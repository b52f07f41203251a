;; Hostile: returns ok with bytes that are not UTF-8.
(module $garbled
  (memory (export "memory") 1)
  (data (i32.const 64) "\ff\fe\"x\"")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 64))
    (i32.store (i32.const 24) (i32.const 5))
    (i32.const 16))
)
