"""A calibration's posterior as files: the weighted sample (`posterior.parquet`) and a config
that holds it as its uncertain parameters (`posterior.toml`), so the posterior runs,
sweeps and back-tests like any scenario."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..config.schema import Config
from .abc import Fit

SAMPLE = "posterior.parquet"


def weighted_quantiles(values: Any, weights: Any, qs: Any) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted empirical CDF, taking
    the midpoint of each particle's weight)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(qs, dtype=float), cdf, v)


def sample_bytes(fit: Fit) -> bytes:
    """The particles as parquet: a column per parameter and `weight` (summing to 1)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    post = fit.posterior
    w = np.asarray(post["weight"], dtype=float)
    cols = {n: pa.array(np.asarray(post[n], dtype=float)) for n in fit.names}
    cols["weight"] = pa.array(w / w.sum())
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf)
    return buf.getvalue()


def _toml_value(v: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": v}).split("=", 1)[1].strip()


def posterior_toml(cfg: Config, fit: Fit, out: Path, config_path: Path | None,
                   overrides: list[str], full: bytes, commit: str = "unknown") -> bytes:
    """`posterior.toml`: a config that `extends` the calibrated file (relative to `out`)
    and replaces its `[[uncertain]]` priors by rows of the sample beside it. With
    overrides (which `extends` cannot express) it is the whole resolved config instead
    (`full`, the TOML of `cfg`), its priors replaced the same way."""
    months = ", ".join(sorted({t.key.split()[-1] for t in fit.targets if t.group == "exports"}))
    eps = fit.generations["epsilon"].iloc[-1]
    lines = [
        f"# The posterior of `rareshock calibrate` ({fit.simulations:,} simulations, "
        f"{len(fit.generations)} generations, final epsilon {eps:.4g}),",
        f"# fitted to the observations of {months or 'the fit window'}: each replication draws one",
        f"# particle (row) of {SAMPLE} by weight, so the parameters' correlations are kept.",
        f"# Fitted with rareshock at commit {commit}; fit again when the model's numbers change.",
    ]
    entries = []
    for u in cfg.uncertain:
        if u.name not in fit.names:  # not calibrated: its prior stands
            entries.append(u.model_dump(mode="json", exclude_defaults=True)
                           | {"prior": u.prior.model_dump(mode="json", exclude_none=True)})
            continue
        e: dict[str, Any] = {"name": u.name, "path": u.path}
        if u.description:
            e["description"] = u.description
        if u.scale:
            e["scale"] = True
        if u.integer:
            e["integer"] = True
        prior = u.prior.model_dump(mode="json", exclude_none=True)
        e["note"] = (f"posterior of {u.name}; prior {_toml_value(prior)}"
                     + (f" ({u.note})" if u.note else ""))
        e["prior"] = {"dist": "posterior", "file": SAMPLE}
        entries.append(e)
    import tomli_w

    body = tomli_w.dumps({"uncertain": entries}).encode()
    if config_path is not None and not overrides:
        rel = os.path.relpath(config_path.resolve(), out.resolve())
        head = "\n".join([*lines, "", f"extends = {_toml_value(rel)}",
                          f"name = {_toml_value((cfg.name or config_path.stem) + ' (posterior)')}",
                          "", ""])
        return head.encode() + body
    import tomllib

    data = tomllib.loads(full.decode())
    data["uncertain"] = entries
    data["name"] = (cfg.name or "calibrated") + " (posterior)"
    note = "# The whole config (it was calibrated with --set " + " ".join(overrides) + ")."
    return ("\n".join([*lines, note, "", ""]) + tomli_w.dumps(data)).encode()


def export(folder: Path, target: Path) -> list[Path]:
    """Copy a calibration folder's posterior to `target` (a .toml path) and its sample to
    `target` with the suffix .parquet, with `extends` and the sample's name rewritten
    relative to the new place (to commit a calibrated scenario beside the configs)."""
    import tomllib

    import tomli_w

    from ..run.store import atomic_write_bytes

    text = (folder / "posterior.toml").read_text()
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    data = tomllib.loads(text)
    sample = target.with_suffix(".parquet")
    if "extends" in data:
        parent = (folder / data["extends"]).resolve()
        data = {"extends": os.path.relpath(parent, target.parent.resolve()), **{
            k: v for k, v in data.items() if k != "extends"}}
    for u in data.get("uncertain", []):
        prior = u.get("prior", {})
        if prior.get("dist") == "posterior" and prior.get("file") == SAMPLE:
            prior["file"] = sample.name
    header = [line.replace(SAMPLE, sample.name) for line in header]
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(sample, (folder / SAMPLE).read_bytes())
    atomic_write_bytes(target, ("\n".join(header) + "\n\n" + tomli_w.dumps(data)).encode())
    return [target, sample]


def stored_fit(path: Path, cfg: Config) -> Fit:
    """The Fit a calibration folder holds (`cfg`: its config.toml): the posterior sample,
    the generations and the run's counts from the manifest, the targets from the config."""
    import json

    import pandas as pd

    from .abc import CalibrationConfig
    from .targets import fit_targets

    man = json.loads((path / "manifest.json").read_text())
    post = pd.read_parquet(path / SAMPLE)
    by_name = {u.name: u for u in cfg.uncertain}
    params = [by_name[c] for c in post.columns if c != "weight"]
    return Fit(params, post, pd.read_csv(path / "generations.csv"),
               fit_targets(cfg, str(path / "config.toml")), int(man.get("simulations", 0)),
               float(man.get("fit_seconds", "nan")), path / "abc.db",
               cfg.calibration or CalibrationConfig())
