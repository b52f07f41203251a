;; Hostile: a component whose handle never returns.
(component
  (core module $spin
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param i32 i32) (result i32)
      (loop $forever (br $forever))
      (i32.const 0)))
  (core instance $i (instantiate $spin))
  (func (export "handle") (param "input" string) (result (result string (error string)))
    (canon lift (core func $i "handle")
      (memory (core memory $i "memory"))
      (realloc (core func $i "cabi_realloc"))))
)
