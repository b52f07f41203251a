;; Not a handler: `handle` takes an i64, and there is no `_start`.
(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i64) (result i32) (i32.const 0))
)
