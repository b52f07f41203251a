;; Hostile: returns ok with a 2 MiB result string (more than the default 1 MiB limit).
(module $flood
  (memory (export "memory") 40)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 65536))
    (i32.store (i32.const 24) (i32.const 2097152))
    (i32.const 16))
)
