"""The run layer: Monte Carlo batches of the model -- seeds (`seeds`), what a worker does
(`chunks`), executors (`executors`: a local process pool started by `pool`, or Dask), the
results store (`store`), how a job runs (`execution`: the `Execution` options, validated
once and passed whole) and the one execution path every batch goes through (`batch`:
`BatchPlan`, `execute`, `run_batch`). Sweeps and calibration run through it.

Nothing is imported here, so that `sim.run.pool` can start the workers' fork server
before anything heavy is loaded.
"""
