;; Hostile: declares 200 pages (12.5 MiB) of initial memory.
(module $greedy
  (memory (export "memory") 200)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0))
)
