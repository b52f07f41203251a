from ottermq.cli.main import entrypoint

entrypoint()
