"""Build support for the example handlers: toolchain installation and per-language builders."""
