"""Decisions under uncertainty (issue #25): the smallest lever that meets chance
constraints (bisection with exact bounds), the best of a finite set of policies
(Kim-Nelson ranking and selection), and a Gaussian-process surrogate search over several
ranges, on common random numbers. The searches take plain
functions (a constraint judge, a sampler), so they are tested on known answers without
the simulator; `evaluate` runs candidate configs through the batch executors."""
