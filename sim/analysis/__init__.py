"""The analysis layer: stored results read back (a run's or a sweep's folder), statistics
across replications, and sequential stopping on a precision target."""
