"""Page parts every product's report shares: a config value in a line, and the closing
sections (the config that ran, the manifest, the command that reproduces it)."""

from __future__ import annotations

import json
from typing import Any

from ..run.store import ResultsDir
from .html import Code, Facts, Section


def short_value(v: Any, width: int = 90) -> str:
    """A config value for people: a distribution as `triangular(low 15, mode 35, high
    45)`, a list of names as `US, EU`, numbers as they read; cut at `width`."""
    if isinstance(v, dict) and "dist" in v:
        text = f"{v['dist']}(" + ", ".join(f"{k} {short_value(x)}" for k, x in v.items()
                                           if k != "dist") + ")"
    elif isinstance(v, list) and all(isinstance(x, str | int | float) for x in v):
        text = ", ".join(short_value(x) for x in v)
    elif isinstance(v, float):
        text = f"{v:g}"
    else:
        text = v if isinstance(v, str) else json.dumps(v, separators=(", ", ": "))
    return text if len(text) <= width else text[: width - 1] + "…"


def _manifest_facts(man: dict[str, Any]) -> Facts:
    keys = [("version", "rareshock version"), ("kind", "kind"), ("run_id", "run id"),
            ("seed", "seed"), ("replications", "replications"), ("points", "points"),
            ("method", "method"), ("crn", "common random numbers"),
            ("chunk_size", "chunk size"), ("events_processed", "events"),
            ("wall_seconds", "wall time (s)"), ("executor", "executor"),
            ("workers", "workers"), ("created", "created"), ("state", "state"),
            ("simulations", "simulations"), ("generations", "generations"),
            ("commit", "commit"), ("config_sha256", "config sha256"),
            ("config_file_sha256", "config.toml sha256")]
    pairs = []
    for k, label in keys:
        if man.get(k) is not None:
            v = man[k]
            pairs.append((label, f"{v:,}" if isinstance(v, int) and not isinstance(v, bool)
                          and k != "seed" else str(v)))
    return Facts(pairs)


def config_sections(store: ResultsDir, man: dict[str, Any], command: str) -> list[Section]:
    text = store.config_bytes().decode()
    return [
        Section("config", "The configuration that ran",
                ["config.toml in the results folder, fully resolved: defaults filled in, "
                 "overrides applied, observations and posterior samples inlined."],
                [Code(text, f"config.toml ({len(text.splitlines()):,} lines)", folded=True)]),
        Section("manifest", "Manifest", [], [_manifest_facts(man)]),
        Section("reproduce", "Reproduce it",
                ["One command runs it again from the folder's own config (same seed, same "
                 "replications) into a new folder; a run's numbers come out identical."],
                [Code(command, css="command")]),
    ]
