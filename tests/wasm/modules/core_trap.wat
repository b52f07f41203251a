;; Hostile: handle -> validate_order -> check_items, which executes `unreachable`.
(module $crashy
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func $check_items (param i32) unreachable)
  (func $validate_order (param i32) (call $check_items (local.get 0)))
  (func (export "handle") (param i32 i32) (result i32)
    (call $validate_order (local.get 0))
    (i32.const 0))
)
