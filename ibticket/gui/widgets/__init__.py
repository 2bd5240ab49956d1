"""Widgets: the ticket, the order line, the status bar, symbol completion, the chart, the log viewer's table."""
