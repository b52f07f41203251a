module ottermq.dev/examples/handlers

go 1.24
