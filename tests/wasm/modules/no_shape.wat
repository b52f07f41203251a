;; Not a handler: exports a memory and a function named `run`.
(module
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32) (local.get 0))
)
