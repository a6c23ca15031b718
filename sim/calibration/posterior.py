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


def read_files(config: Path, overrides: list[str] | None = None) -> dict[Path, str]:
    """Every file loading `config` (with `overrides`) reads, resolved, with what it is to
    the config: the file itself, the configs it `extends`, its observations and the
    posterior samples its `[[uncertain]]` entries name (those an override names are read
    relative to the working folder). The file must load (checked before)."""
    import tomllib

    from ..config.loading import parse_override

    out: dict[Path, str] = {}

    def note(path: Path, what: str) -> None:
        out.setdefault(path.resolve(), what)

    def samples(entries: Any, folder: Path, where: str) -> None:
        for u in entries if isinstance(entries, list) else []:
            prior = u.get("prior") if isinstance(u, dict) else None
            if isinstance(prior, dict) and isinstance(prior.get("file"), str):
                note(folder / prior["file"], f"a posterior sample named in {where}")

    p, what = Path(config), "the config being calibrated"
    # a child's `observed` and `[[uncertain]]` replace its parent's whole: only the nearest
    # config in the chain that sets one is read for it
    done: set[str] = set()
    for _ in range(64):  # the loader refuses longer chains
        note(p, what)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            break
        if "observed" in data and "observed" not in done:
            done.add("observed")
            if isinstance(data["observed"], str):
                note(p.parent / data["observed"], "the observations it reads")
        if "uncertain" in data and "uncertain" not in done:
            done.add("uncertain")
            samples(data["uncertain"], p.parent, p.name)
        parent = data.get("extends")
        if not isinstance(parent, str) or (p.parent / parent).resolve() in out:
            break
        p, what = p.parent / parent, "a config it extends"
    for text in overrides or []:
        keys, value = parse_override(text)
        if keys == ["observed"] and isinstance(value, str):
            note(Path(value), "the observations it reads")
        elif keys and keys[0] == "uncertain":
            if keys[-1] == "file" and isinstance(value, str):
                note(Path(value), "a posterior sample named in --set")
            else:
                samples(value if isinstance(value, list) else [
                    value if keys[-1] != "prior" else {"prior": value}], Path.cwd(),
                    "--set")
    return out


def check_export(target: Path, config: Path | None, overrides: list[str] | None,
                 out: Path) -> None:
    """ArgumentError if exporting to `target` (and its sample beside it) would replace a
    file the calibration reads (`read_files`) or one inside the calibration folder `out`;
    checked before the fit."""
    from ..errors import ArgumentError

    reads = read_files(config, overrides) if config is not None else {}
    folder = out.resolve()
    for f in (target, target.with_suffix(".parquet")):
        r = f.resolve()
        name = "it" if f == target else f"its sample {f}"
        if r in reads:
            raise ArgumentError("export", str(target), f"{name} is {reads[r]}: exporting there "
                                "would replace it (and the posterior config reads it); "
                                "choose another file")
        if r == folder or folder in r.parents:
            raise ArgumentError("export", str(target), f"{name} is inside the calibration "
                                f"folder {out}: export beside your configs instead")


def stored_fit(path: Path, cfg: Config) -> Fit:
    """The Fit a calibration folder holds (`cfg`: its config.toml): the posterior sample,
    the generations and the run's counts from the manifest, the targets from the config.
    FolderError (one line) for a calibration that did not finish, or a file it needs that
    is missing or damaged."""
    import json

    import pandas as pd

    from ..errors import FolderError
    from .abc import CalibrationConfig
    from .targets import fit_targets

    def bad(message: str) -> FolderError:
        return FolderError(str(path), f"{message}; run the calibration again with "
                           "--overwrite")

    try:
        man = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        raise bad("manifest.json is missing or damaged") from None
    state = man.get("state") if isinstance(man, dict) else None
    if state != "complete":
        why = f": {man['error']}" if isinstance(man, dict) and man.get("error") else (
            ": it was stopped before it ended, or is still under way" if state == "running"
            else "")
        raise bad(f"the calibration did not finish (its manifest says {state!r}{why})")
    missing = [f for f in (SAMPLE, "generations.csv", "predictive/manifest.json")
               if not (path / f).is_file()]
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    try:
        post = pd.read_parquet(path / SAMPLE)
    except Exception:  # noqa: BLE001 - any unreadable sample is a damaged folder
        raise bad(f"{SAMPLE} is damaged (not a readable parquet file)") from None
    try:
        gens = pd.read_csv(path / "generations.csv")
    except Exception:  # noqa: BLE001 - any unreadable table is a damaged folder
        raise bad("generations.csv is damaged (not a readable CSV table)") from None
    by_name = {u.name: u for u in cfg.uncertain}
    columns = [c for c in post.columns if c != "weight"]
    unknown = [c for c in columns if c not in by_name]
    if "weight" not in post.columns or not columns or unknown or post.empty:
        raise bad(f"{SAMPLE} does not hold this config's posterior (a weight column and a "
                  "column per calibrated uncertain parameter)")
    need = {"t", "epsilon", "particles", "simulations", "acceptance", "ess"}
    if gens.empty or not need <= set(gens.columns):
        raise bad(f"generations.csv is damaged (it needs a row per generation with "
                  f"{', '.join(sorted(need))})")
    params = [by_name[c] for c in columns]
    settings = cfg.calibration or CalibrationConfig()
    npe = settings.method == "npe"
    sbc = None
    if npe and (path / "sbc.csv").is_file():
        try:
            sbc = {"rows": pd.read_csv(path / "sbc.csv").to_dict("records")}
        except Exception:  # noqa: BLE001 - any unreadable table is a damaged folder
            raise bad("sbc.csv is damaged (not a readable CSV table)") from None
        ranks = path / "sbc_ranks.csv"
        if ranks.is_file():  # the rank of each dataset's truth (folders since it was kept)
            try:
                r = pd.read_csv(ranks)[columns].to_numpy(dtype=np.int64)
            except Exception:  # noqa: BLE001 - any unreadable table is a damaged folder
                raise bad("sbc_ranks.csv is damaged (it needs a column of ranks per "
                          "calibrated parameter)") from None
            sbc.update(ranks=r, draws=int(man.get("sbc_draws", 0)) or None)
    return Fit(params, post, gens,
               fit_targets(cfg, str(path / "config.toml")), int(man.get("simulations", 0)),
               float(man.get("fit_seconds", "nan")),
               path / ("training.parquet" if npe else "abc.db"), settings,
               {k: list(v) for k, v in (man.get("unscaled") or {}).items()},
               settings.method, sbc)
