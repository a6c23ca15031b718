"""The sweep layer: designs of points (grid, one at a time, Latin hypercube, Sobol, Morris),
each point's config, running them on the batch runner with common random numbers, and the
analyses of a design (sensitivity indices, scenario discovery)."""

from .execute import SweepInfo, run_sweep
from .plan import SweepPlan, plan_sweep

__all__ = ["SweepInfo", "SweepPlan", "plan_sweep", "run_sweep"]
