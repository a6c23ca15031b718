"""Whether two fits of one calibration with different seeds agree: per parameter, the
difference of their posterior means against its Monte Carlo error, and the distance
between their marginals.

The Monte Carlo error of a weighted sample's mean is sd / sqrt(ESS), ESS = 1 / Σ w²
(Kish), so the difference of two independent fits' means has error
sqrt(sd_a² / ESS_a + sd_b² / ESS_b). A parameter agrees when its difference is within
`Z_AGREE` of those errors: three, so that 13 parameters that truly agree all pass with
probability about 0.965 (Šidák: 0.9973^13). Where they do not, something besides the
sampling noise of the final sample differs between the fits (for NPE, the network each
fit trained; for ABC, the path of its generations), and the posterior's spread between
runs is larger than its own Monte Carlo error says.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from .posterior import SAMPLE

Z_AGREE = 3.0


def _weights(df: pd.DataFrame) -> np.ndarray:
    w = (df["weight"].to_numpy(dtype=float) if "weight" in df
         else np.ones(len(df), dtype=float))
    return w / w.sum()


def _ks(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray) -> float:
    """The largest gap between two weighted empirical distribution functions."""
    grid = np.union1d(x, y)

    def cdf(v: np.ndarray, w: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        c = np.cumsum(w[order])
        return np.concatenate([[0.0], c])[np.searchsorted(v[order], grid, side="right")]

    return float(np.max(np.abs(cdf(x, wx) - cdf(y, wy))))


def agreement(a: pd.DataFrame, b: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Per parameter of `names`: each fit's mean, the difference, its Monte Carlo error, the
    difference in errors (z) and in pooled posterior sds, the KS distance between the two
    marginals, and whether they agree (|z| <= `Z_AGREE`)."""
    wa, wb = _weights(a), _weights(b)
    ess_a, ess_b = 1.0 / float(np.sum(wa ** 2)), 1.0 / float(np.sum(wb ** 2))
    rows = []
    for n in names:
        x, y = a[n].to_numpy(dtype=float), b[n].to_numpy(dtype=float)
        ma, mb = float(np.sum(wa * x)), float(np.sum(wb * y))
        va, vb = float(np.sum(wa * (x - ma) ** 2)), float(np.sum(wb * (y - mb) ** 2))
        err = math.sqrt(va / ess_a + vb / ess_b)
        diff = mb - ma
        sd = math.sqrt((va + vb) / 2)
        z = diff / err if err > 0 else (0.0 if diff == 0 else math.inf)
        rows.append({"parameter": n, "mean_a": ma, "mean_b": mb, "difference": diff,
                     "mc_error": err, "z": z,
                     "difference_sd": diff / sd if sd > 0 else 0.0,
                     "ks_distance": _ks(x, wa, y, wb), "agree": abs(z) <= Z_AGREE})
    out = pd.DataFrame(rows)
    out.attrs.update(ess_a=ess_a, ess_b=ess_b)
    return out


def read_other(folder: Path, names: list[str], seed: int) -> pd.DataFrame:
    """The posterior sample of another fit of the same parameters with another seed, to
    compare with (`--agree-with`); ArgumentError if it is not one."""
    import json

    man_path = folder / "manifest.json"
    try:
        man = json.loads(man_path.read_text())
    except (OSError, ValueError):
        raise ArgumentError("agree_with", str(folder), "is not a calibration folder "
                            "(no readable manifest.json)") from None
    if man.get("kind") != "calibration" or man.get("state") != "complete":
        raise ArgumentError("agree_with", str(folder), "is not a complete calibration "
                            f"(kind {man.get('kind')!r}, state {man.get('state')!r})")
    if man.get("seed") == seed:
        raise ArgumentError("agree_with", str(folder), f"was fitted with the same seed "
                            f"({seed}): give a fit with another seed (--set runs.seed=...)")
    try:
        other = pd.read_parquet(folder / SAMPLE)
    except Exception:  # noqa: BLE001 - any unreadable sample is a damaged folder
        raise ArgumentError("agree_with", str(folder), f"{SAMPLE} is missing or "
                            "damaged") from None
    missing = [n for n in names if n not in other.columns]
    if missing:
        raise ArgumentError("agree_with", str(folder), f"did not calibrate "
                            f"{', '.join(missing)}: agreement needs a fit of the same "
                            "parameters")
    return other
