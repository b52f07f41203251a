;; Hostile: handle returns a result pointer far outside its memory.
(module $liar
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0x7ffffff0))
)
