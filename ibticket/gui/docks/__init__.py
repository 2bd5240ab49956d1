"""The main window's docks: orders, fills, positions, chart, log viewer."""
