"""Storage: the SQLite library (schema, migrations, sessions) and the `Library` front door."""
