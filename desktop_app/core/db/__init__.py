"""The library's storage: SQLite (the source of truth, vectors included) and the writer's lease."""
