;; A component that answers {"env":"NAME=value"} for the first environment variable it
;; sees through wasi:cli/environment (or {"env":null}): the preview 2 view of the sandbox.
(component
  (import "wasi:cli/environment@0.2.0" (instance $environment
    (export "get-environment" (func (result (list (tuple string string)))))))
  (core module $heap
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $heap_instance (instantiate $heap))
  (core func $get_environment (canon lower (func $environment "get-environment")
    (memory (core memory $heap_instance "memory")) (realloc (core func $heap_instance "cabi_realloc"))))
  (core module $main
    (import "heap" "memory" (memory 1))
    (import "wasi" "get-environment" (func $get_environment (param i32)))
    (data (i32.const 1024) "{\"env\":null}")
    (data (i32.const 1040) "{\"env\":\"")
    (func $put (param $dst i32) (param $src i32) (param $len i32) (result i32)
      (memory.copy (local.get $dst) (local.get $src) (local.get $len))
      (i32.add (local.get $dst) (local.get $len)))
    (func (export "handle") (param i32 i32) (result i32)
      (local $pair i32) (local $end i32)
      ;; list<tuple<string,string>> comes back as (ptr, len) at 64
      (call $get_environment (i32.const 64))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (i32.const 2048))
      (if (i32.eqz (i32.load (i32.const 68)))
        (then
          (memory.copy (i32.const 2048) (i32.const 1024) (i32.const 12))
          (i32.store (i32.const 24) (i32.const 12)))
        (else
          ;; each element: name (ptr, len), value (ptr, len)
          (local.set $pair (i32.load (i32.const 64)))
          (local.set $end (call $put (i32.const 2048) (i32.const 1040) (i32.const 8)))
          (local.set $end (call $put (local.get $end) (i32.load (local.get $pair)) (i32.load offset=4 (local.get $pair))))
          (i32.store8 (local.get $end) (i32.const 61))
          (local.set $end (call $put (i32.add (local.get $end) (i32.const 1))
            (i32.load offset=8 (local.get $pair)) (i32.load offset=12 (local.get $pair))))
          (i32.store16 (local.get $end) (i32.const 0x7d22))
          (i32.store (i32.const 24) (i32.sub (i32.add (local.get $end) (i32.const 2)) (i32.const 2048)))))
      (i32.const 16)))
  (core instance $main_instance (instantiate $main
    (with "heap" (instance $heap_instance))
    (with "wasi" (instance (export "get-environment" (func $get_environment))))))
  (func (export "handle") (param "input" string) (result (result string (error string)))
    (canon lift (core func $main_instance "handle")
      (memory (core memory $heap_instance "memory")) (realloc (core func $heap_instance "cabi_realloc"))))
)
