;; Hostile: handle grows memory 1 MiB at a time, touching every new page, until a grow
;; is refused, then aborts (as a language runtime does when allocation fails).
(module $bomb
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (local $old i32)
    (loop $grow
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then unreachable))
      (i32.store (i32.mul (local.get $old) (i32.const 65536)) (i32.const 1))
      (br $grow))
    (i32.const 0))
)
