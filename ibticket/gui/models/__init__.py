"""Qt table models: orders, fills, positions and the log viewer's day."""
