"""Pipeline files: loading with source positions, schema validation, semantic checks."""
