"""An optimisation: plan the `[optimize]` problem, claim the folder, search on the
executors, and write candidates.csv, evaluations.parquet (every candidate's outputs per
replication), answer.json, optimize.md and plots/optimize.png, each listed in the
manifest with its checksum (kind "optimize"; `rareshock verify` checks them)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import BadInput, FolderError
from ..optimize.evaluate import Evaluator
from ..optimize.problem import Problem, plan_problem
from ..optimize.solve import Solution, solve
from ..report.optimize import optimize_markdown, plot_optimize
from ..report.write import write_report
from ..run.execution import Execution
from ..run.executors import make_executor
from ..run.phases import phase
from ..run.store import ResultsDir, digest

KIND = "optimize"


def optimize(cfg: Config, path: Path, ex: Execution, *, source: str = "<config>",
             plots: bool = True) -> dict[str, Any]:
    """Solve `cfg`'s `[optimize]` problem into `path`; the answer (answer.json)."""
    prob = plan_problem(cfg, source, force=ex.force)
    store = ResultsDir(path)
    try:
        store.precheck(resume=False, overwrite=ex.overwrite, kind=KIND)
    except FolderError as exc:  # an optimisation starts again; it does not resume
        raise FolderError(exc.folder, exc.message,
                          tuple(r for r in exc.remedies if r != "resume")) from None
    t0 = time.perf_counter()
    outputs = [c for c in prob.settings.constraints]
    if prob.settings.objective.output is not None:
        outputs.append(prob.settings.objective.output)
    workers = ex.workers or os.cpu_count() or 1
    executor = make_executor(ex.executor, workers, ex.scheduler)
    aborted = True
    with store.locked():
        store.prepare(cfg, {"kind": KIND, "name": cfg.name, "seed": cfg.runs.seed,
                            "replications": prob.settings.max_replications,
                            "method": prob.method, "chunk_size": None, "crn": True},
                      resume=False, overwrite=ex.overwrite)
        try:
            ev = Evaluator(cfg.runs.seed, outputs, executor, executor.workers,
                           ex.chunk_size)
            phase(f"optimize: {prob.method} on {', '.join(s.label for s in prob.specs)}...")
            sol = solve(prob, ev)
            aborted = False
        except BaseException as exc:
            state = "failed" if isinstance(exc, BadInput) else "interrupted"
            with contextlib.suppress(BadInput, OSError):
                store.update_manifest(state=state, error=str(exc) or type(exc).__name__)
            raise
        finally:
            executor.close(abort=aborted)
        return write(store, prob, sol, ev, source, plots, time.perf_counter() - t0)


def table_of(sol: Solution) -> Any:
    import pandas as pd

    return pd.DataFrame(sol.rows)


def write(store: ResultsDir, prob: Problem, sol: Solution, ev: Evaluator, source: str,
          plots: bool, wall: float) -> dict[str, Any]:
    """Every output, then the checksums and the manifest marked complete; the answer."""
    table = table_of(sol)
    store.write_output("candidates.csv", table.to_csv(index=False).encode())
    store.write_output("evaluations.parquet", _evaluations(prob, ev))
    answer = {**sol.answer, "wall_seconds": round(wall, 3), "trace": sol.trace}
    store.write_output("answer.json", json.dumps(answer, indent=1, default=_plain).encode())
    drawn: list[str] = []
    if plots and not table.empty:
        (store.path / "plots").mkdir(exist_ok=True)
        p = plot_optimize(json.loads(json.dumps(answer, default=_plain)), table,
                          store.path / "plots")
        drawn.append(str(Path(p).relative_to(store.path)))
        store.record_output(drawn[-1])
    md = optimize_markdown(answer, table, prob.cfg.name or source, source,
                           prob.cfg.runs.seed, drawn)
    store.write_output("optimize.md", md.encode())
    sums = {o: digest((store.path / o).read_bytes()) for o in store.header()["outputs"]
            if (store.path / o).is_file()}
    store.update_manifest(state="complete", sha256=sums, simulations=ev.simulations,
                          wall_seconds=round(wall, 3))
    if plots:
        write_report(store.path)
    return answer


def _evaluations(prob: Problem, ev: Evaluator) -> bytes:
    """One row per candidate and replication: the levers' values and every output."""
    import pandas as pd

    frames = []
    names = [s.label for s in prob.specs]
    for c, (key, outs) in enumerate(ev.done.items()):
        n = ev.count(key)
        df = pd.DataFrame({"candidate": c, "replication": range(n)})
        for name, v in zip(names, key, strict=True):
            df[name] = [v] * n
        for label, vals in outs.items():
            df[label] = vals
        frames.append(df)
    buf = io.BytesIO()
    pd.concat(frames, ignore_index=True).astype({n: str for n in names}).to_parquet(
        buf, index=False)
    return buf.getvalue()


def _plain(v: Any) -> Any:
    """numpy scalars and dates in answer.json."""
    if hasattr(v, "item"):
        return v.item()
    return str(v)
