"""The run layer: Monte Carlo batches of the model -- seeds, chunks, executors (a local
process pool or Dask) and the results store. Sweeps and calibration run through it."""

from .batch import BatchInfo, BatchPlan, execute, run_batch
from .store import ResultsDir
from .work import ReplicationError

__all__ = ["BatchInfo", "BatchPlan", "ReplicationError", "ResultsDir", "execute", "run_batch"]
