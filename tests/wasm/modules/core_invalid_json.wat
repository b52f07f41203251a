;; Hostile: returns ok with text that is not JSON.
(module $chatty
  (memory (export "memory") 1)
  (data (i32.const 64) "hello, not json")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 64))
    (i32.store (i32.const 24) (i32.const 15))
    (i32.const 16))
)
