"""The `ottermq` command line: one thin module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser
and sets ``handler=run`` on it, and ``run(args, ctx) -> int``, which builds what it
needs from ``ctx`` (settings, output stream), calls one library function and returns
an exit code. Only this package imports everything; nothing imports it.
"""
