"""How a job runs is validated once, in `Execution`: the API's keyword arguments and the
command line's flags reach the same checks and the same wording, and nothing is written
when they fail. The command line defines each shared flag once."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import sim
from sim.cli import build_parser, main
from sim.errors import ArgumentError, ConflictError
from sim.run.execution import Execution

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"
SWEEP = ROOT / "configs" / "sweeps" / "reviewers.toml"


def test_execution_refuses_resume_with_overwrite() -> None:
    with pytest.raises(ConflictError) as err:
        Execution(resume=True, overwrite=True)
    assert str(err.value) == "resume=True: cannot be combined with overwrite"
    assert (err.value.argument, err.value.other) == ("resume", "overwrite")


@pytest.mark.parametrize("fields, argument, message", [
    ({"workers": 0}, "workers", "must be at least 1"),
    ({"chunk_size": 2.5}, "chunk_size", "must be a whole number"),
    ({"force": "yes"}, "force", "must be True or False"),
    ({"scheduler": "tcp://10.0.0.1:8786"}, "scheduler", "needs --executor dask"),
])
def test_execution_refuses_bad_fields(fields: dict, argument: str, message: str) -> None:
    with pytest.raises(ArgumentError) as err:
        Execution(**fields)
    assert (err.value.argument, err.value.message) == (argument, message)


def test_execution_but_validates_again() -> None:
    ex = Execution(workers=2, resume=True)
    assert ex.but(resume=False, overwrite=True).overwrite
    with pytest.raises(ConflictError):
        ex.but(overwrite=True)


@pytest.mark.parametrize("entry, config", [(sim.run_batch, SMALL), (sim.run_sweep, SWEEP)])
def test_api_refuses_resume_with_overwrite_before_writing(entry: object, config: Path,
                                                          tmp_path: Path) -> None:
    cfg = sim.load_config(config)
    with pytest.raises(ConflictError, match="cannot be combined with overwrite"):
        entry(cfg, tmp_path / "out", resume=True, overwrite=True)  # type: ignore[operator]
    assert not (tmp_path / "out").exists()


def test_api_takes_an_execution(tmp_path: Path) -> None:
    """`execution=` replaces the keyword arguments of how to run: the batch runs with its
    workers and chunk size, as the manifest records."""
    res = sim.run_batch(sim.load_config(SMALL), tmp_path / "out", replications=2,
                        execution=Execution(workers=1, chunk_size=1))
    assert res.replications == 2
    assert (res.manifest["workers"], res.manifest["chunk_size"]) == (1, 1)
    assert len(res.chunks) == 2


@pytest.mark.parametrize("command, config", [("run", SMALL), ("sweep", SWEEP)])
def test_cli_refuses_resume_with_overwrite(command: str, config: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main([command, str(config), "--resume", "--overwrite", "-o", str(tmp_path / "o"),
                 "--no-plots", "-q", "-j", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == "rareshock: error: --resume: cannot be combined with --overwrite\n"
    assert not (tmp_path / "o").exists()


def test_cli_scheduler_needs_dask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(SMALL), "--scheduler", "tcp://x:1", "-o", str(tmp_path / "o"),
                 "-q", "-j", "1"])
    assert code == 2
    assert capsys.readouterr().err == ("rareshock: error: --scheduler: tcp://x:1: needs "
                                       "--executor dask\n")
    assert not (tmp_path / "o").exists()


def _options(parser: argparse.ArgumentParser, command: str) -> dict[str, argparse.Action]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {s: a for a in sub.choices[command]._actions for s in a.option_strings}


def test_shared_flags_are_the_same_everywhere() -> None:
    """--workers, --executor and --scheduler come from one definition: the same names,
    type and help in every command that takes them."""
    parser = build_parser()
    for flag in ("--workers", "--executor", "--scheduler"):
        seen = {(tuple(a.option_strings), a.type, a.help, tuple(a.choices or ()))
                for c in ("run", "sweep", "calibrate", "compare")
                for a in [_options(parser, c)[flag]]}
        assert len(seen) == 1, (flag, seen)
