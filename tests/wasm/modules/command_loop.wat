;; Hostile: a command whose _start never returns.
(module $spin_command
  (memory (export "memory") 1)
  (func $spin (export "_start")
    (loop $forever (br $forever)))
)
