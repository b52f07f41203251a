;; Hostile: unbounded recursion; the guest stack limit turns it into a trap.
(module $recursive
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func $descend (param $depth i32) (result i32)
    (i32.add (call $descend (i32.add (local.get $depth) (i32.const 1))) (i32.const 1)))
  (func (export "handle") (param i32 i32) (result i32)
    (call $descend (i32.const 0)))
)
