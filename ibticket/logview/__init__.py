"""The log viewer without Qt: the day index, filters, jobs, rows and the worker process that runs them."""
