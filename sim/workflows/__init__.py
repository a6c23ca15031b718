"""The user's jobs, each a short module of named steps: `run`, `sweep`, `backtest`,
`verify`, `calibrate`, `compare`, `optimize`, `report` (and `validate`, the config
check). Each takes a config (or a folder) and one validated `Execution` (how to run:
executor, workers, chunks, resume or overwrite, progress, force). `sim.api` is their
public face; the command line calls only it. Modules are imported when used, so the
command line starts fast."""
