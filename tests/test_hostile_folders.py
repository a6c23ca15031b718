"""Hostile results folders: output commands that would write over what they did not make,
altered parts and logs, damaged comparison folders, user strings that matplotlib or
Markdown would read as markup, and comparisons of scenarios that do not match."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.compare import compare_runs, restriction_days
from sim.errors import ArgumentError, FolderError
from sim.report.text import markdown_table, md_text
from sim.run.store import LOG, MANIFEST, ResultsDir, digest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RARESHOCK_DEBUG"} | {
        "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _refused(r: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2, one line on stderr (no traceback) holding `words`."""
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("rareshock: ") or
             "error" in ln]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def _tree(path: Path) -> dict[str, str]:
    """Every file under `path` with its checksum (to show nothing was written)."""
    return {str(f.relative_to(path)): digest(f.read_bytes())
            for f in sorted(path.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def run_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small.toml, 3 replications in chunks of one (3 chunks)."""
    out = tmp_path_factory.mktemp("hostile") / "a"
    sim.run_batch(sim.load_config(SMALL), out, replications=3, workers=1, chunk_size=1)
    return out


def _copy(src: Path, dst: Path, name: str | None = None) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".rareshock.lock"))
    if name is not None:
        man = json.loads((dst / MANIFEST).read_text())
        man["name"] = name
        (dst / MANIFEST).write_text(json.dumps(man))
    return dst


def _edit_config(folder: Path, old: str, new: str) -> None:
    """Edit config.toml and record its new checksum, as if that config had run."""
    text = (folder / "config.toml").read_text()
    assert old in text
    data = text.replace(old, new, 1).encode()
    (folder / "config.toml").write_bytes(data)
    man = json.loads((folder / MANIFEST).read_text())
    man["config_file_sha256"] = digest(data)
    (folder / MANIFEST).write_text(json.dumps(man))


def _log(folder: Path) -> list[dict]:
    return [json.loads(ln) for ln in (folder / LOG).read_text().splitlines() if ln]


def _write_log(folder: Path, lines: list[str]) -> None:
    (folder / LOG).write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- overwrites


def test_compare_never_writes_into_an_input_or_a_folder_it_did_not_make(
        run_a: Path, tmp_path: Path) -> None:
    a2 = _copy(run_a, tmp_path / "a2", "twin")
    other = _copy(run_a, tmp_path / "other")
    user = tmp_path / "mine"
    user.mkdir()
    (user / "compare.md").write_text("my notes\n")
    (user / "report.html").write_text("<p>mine</p>\n")
    before = {p: _tree(p) for p in (run_a, a2, other, user)}
    for out, words in [(run_a, "is a run being compared"),
                       (a2 / "plots", "inside"),
                       (other, "was not made by rareshock compare"),
                       (user, "was not made by rareshock compare")]:
        with pytest.raises(FolderError, match=words):
            sim.compare(run_a, a2, out=out, plots=False)
    r = _cli("compare", run_a, a2, "--out", user, "--overwrite", "-q", cwd=tmp_path)
    _refused(r, "not made by rareshock compare")
    r = _cli("compare", run_a, a2, "--out", run_a, "--overwrite", "-q", cwd=tmp_path)
    _refused(r, "a run being compared")
    assert {p: _tree(p) for p in before} == before
    assert not (a2 / "plots" / "compare.json").exists()


def test_compare_reuses_only_its_own_folder(run_a: Path, tmp_path: Path) -> None:
    a2 = _copy(run_a, tmp_path / "a2", "twin")
    empty = tmp_path / "empty"
    empty.mkdir()
    sim.compare(run_a, a2, out=empty, plots=False)
    with pytest.raises(FolderError, match="holds a comparison already"):
        sim.compare(run_a, a2, out=empty, plots=False)
    first = (empty / "compare.csv").read_bytes()
    sim.compare(run_a, a2, out=empty, plots=False, overwrite=True)
    assert (empty / "compare.csv").read_bytes() == first  # the same comparison again


def test_run_overwrite_replaces_only_its_own_kind(run_a: Path, tmp_path: Path) -> None:
    cfg = sim.load_config(SMALL)
    for kind in ("sweep", "calibration"):
        f = _copy(run_a, tmp_path / kind)
        man = json.loads((f / MANIFEST).read_text())
        man["kind"] = kind
        (f / MANIFEST).write_text(json.dumps(man))
        before = _tree(f)
        with pytest.raises(FolderError, match=f"it holds a {kind}"):
            sim.run_batch(cfg, f, replications=1, workers=1, overwrite=True)
        assert _tree(f) == before
    # a calibration or a sweep does not replace a run (the check `calibrate` and
    # `sweep` make before anything is fitted or run)
    for kind in ("calibration", "sweep"):
        with pytest.raises(FolderError, match=f"holds a run, and only a {kind}"):
            ResultsDir(run_a).precheck(resume=False, overwrite=True, kind=kind)
    ResultsDir(run_a).precheck(resume=False, overwrite=True, kind="run")  # its own kind


def test_report_writes_only_into_results_folders(run_a: Path, tmp_path: Path) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    (user / "report.html").write_text("<p>mine</p>\n")
    (user / "summary.csv").write_text("a,b\n")
    before = _tree(user)
    _refused(_cli("report", user, cwd=tmp_path), "holds no results")
    _refused(_cli("plot", user, cwd=tmp_path), "no manifest.json")
    assert _tree(user) == before


def test_plot_out_and_validation_doc_refuse_other_files(run_a: Path, tmp_path: Path) -> None:
    from sim.report.validation import validate_model

    user = tmp_path / "pictures"
    user.mkdir()
    (user / "shortfall_by_sector.png").write_bytes(b"my picture")
    res = sim.Results(run_a)
    before = _tree(run_a)
    for out in (user, run_a, _copy(run_a, tmp_path / "b")):
        with pytest.raises(ArgumentError, match="not empty|is a results folder"):
            res.plot(out)
    assert (user / "shortfall_by_sector.png").read_bytes() == b"my picture"
    assert _tree(run_a) == before
    doc = tmp_path / "notes.md"
    doc.write_text("# My notes\n")
    with pytest.raises(ArgumentError, match="not a validation report"):
        validate_model(doc, ROOT / "configs", small=True)
    r = _cli("validate-model", "--doc", SMALL, "--small", cwd=tmp_path)
    _refused(r, "--doc", "not a validation report")
    assert doc.read_text() == "# My notes\n" and not (tmp_path / "validation").exists()


# --------------------------------------------------------------------------- checksums


def _flip(path: Path, at: float = 0.5) -> None:
    """Change bytes in the middle of `path`, keeping its size."""
    data = bytearray(path.read_bytes())
    k = int(len(data) * at)
    data[k:k + 8] = bytes(b ^ 0x5A for b in data[k:k + 8])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("table,at", [("replications", 0.3), ("replications", 0.6),
                                      ("authority", 0.4)])
def test_a_same_size_altered_part_is_refused_by_readers(run_a: Path, tmp_path: Path,
                                                         table: str, at: float) -> None:
    f = _copy(run_a, tmp_path / "f")
    part = f / table / "part-00001.parquet"
    size = part.stat().st_size
    _flip(part, at)
    assert part.stat().st_size == size
    r = _cli("summary", f, cwd=tmp_path)
    _refused(r, f"{table}/part-00001.parquet", "checksum", "verify")
    with pytest.raises(FolderError, match="part-00001.parquet is damaged"):
        sim.Results(f).table(table)
    _refused(_cli("verify", f, cwd=tmp_path), "chunk 1")


def test_swapped_parts_of_the_same_size_are_refused(run_a: Path, tmp_path: Path) -> None:
    f = _copy(run_a, tmp_path / "f")
    p0, p1 = f / "authority" / "part-00000.parquet", f / "authority" / "part-00001.parquet"
    if p0.stat().st_size != p1.stat().st_size:
        pytest.skip("the two parts differ in size (a size check catches that)")
    d0, d1 = p0.read_bytes(), p1.read_bytes()
    p0.write_bytes(d1)
    p1.write_bytes(d0)
    with pytest.raises(FolderError, match="does not match the sha256 checksum"):
        sim.Results(f).authority  # noqa: B018


# --------------------------------------------------------------------------- the log


def test_a_cut_log_of_a_finished_run_is_refused(run_a: Path, tmp_path: Path) -> None:
    lines = (run_a / LOG).read_text().splitlines()
    variants = {"last line gone": lines[:-1],
                "last line cut": [*lines[:-1], lines[-1][:40]],
                "middle line gone": [lines[0], lines[2]]}
    for name, kept in variants.items():
        f = _copy(run_a, tmp_path / name.replace(" ", "-"))
        _write_log(f, kept)
        for cmd in ("verify", "summary"):
            _refused(_cli(cmd, f, cwd=tmp_path), "records 2 replications",
                     "finished with 3", "--resume")


def test_a_log_that_counts_a_replication_twice_is_refused(run_a: Path,
                                                          tmp_path: Path) -> None:
    lines = (run_a / LOG).read_text().splitlines()
    recs = _log(run_a)
    # a line copied under a new chunk index (the same parts)
    f1 = _copy(run_a, tmp_path / "again")
    _write_log(f1, [*lines, json.dumps(recs[0] | {"chunk": 3})])
    # a chunk re-recorded with copies of another chunk's parts (checksums right)
    f2 = _copy(run_a, tmp_path / "copies")
    rec = json.loads(json.dumps(recs[0]))
    for t, p in rec["parts"].items():
        shutil.copy(f2 / p["file"], f2 / t / "part-00099.parquet")
        p["file"] = f"{t}/part-00099.parquet"
    _write_log(f2, [*lines, json.dumps(rec | {"chunk": 2})])
    # a chunk claiming more replications than the plan gives it
    f3 = _copy(run_a, tmp_path / "more")
    _write_log(f3, [*lines[:-1], json.dumps(recs[2] | {"replications": 2})])
    for f, words in [(f1, "both list"), (f2, "holds replications other than"),
                     (f3, "more than the 1")]:
        _refused(_cli("verify", f, cwd=tmp_path), "counts replications twice"
                 if f is not f2 else "", words)
        _refused(_cli("summary", f, cwd=tmp_path), "twice")


def test_verify_checks_every_log_line_but_accepts_a_kill_cut(run_a: Path,
                                                             tmp_path: Path) -> None:
    lines = (run_a / LOG).read_text().splitlines()
    f = _copy(run_a, tmp_path / "junk")
    _write_log(f, [lines[0], "not json at all", *lines[1:]])
    _refused(_cli("verify", f, cwd=tmp_path), "line 2 of chunks.jsonl is not a chunk record")
    f = _copy(run_a, tmp_path / "fields")
    _write_log(f, [lines[0], json.dumps({"run": _log(run_a)[0]["run"], "chunk": 1}),
                   *lines[1:]])
    _refused(_cli("verify", f, cwd=tmp_path), "line 2")
    # a write a kill cut short, then the chunk written again on resume: sound
    f = _copy(run_a, tmp_path / "killed")
    _write_log(f, [lines[0], lines[1][:70], *lines[1:]])
    r = _cli("verify", f, cwd=tmp_path)
    assert r.returncode == 0 and "3 replications (complete), each recorded once" in r.stdout
    # a chunk's record repeated without the drop the writer puts before a rewrite
    f = _copy(run_a, tmp_path / "repeated")
    _write_log(f, [*lines, lines[0]])
    _refused(_cli("verify", f, cwd=tmp_path), f"line {len(lines) + 1} of chunks.jsonl "
             "records chunk 0 again (first at line 1) without dropping it")


# --------------------------------------------------------------------------- comparisons


@pytest.fixture()
def compared(run_a: Path, tmp_path: Path) -> Path:
    a2 = _copy(run_a, tmp_path / "a2", "twin")
    sim.compare(run_a, a2, out=tmp_path / "cmp", plots=False)
    return tmp_path / "cmp"


def test_report_of_a_damaged_or_unfinished_comparison_is_one_line(compared: Path,
                                                                  tmp_path: Path) -> None:
    cases = {
        "unfinished": (lambda c: (c / "compare.json").write_text(
            '{"kind": "compare", "state": "running"}'), "did not finish"),
        "no-csv": (lambda c: (c / "compare.csv").unlink(), "compare.csv is missing"),
        "csv-cut": (lambda c: (c / "compare.csv").write_bytes(
            (c / "compare.csv").read_bytes()[:-60]), "compare.csv was changed"),
        "json-garbage": (lambda c: (c / "compare.json").write_text("{oops"), "damaged"),
        "json-list": (lambda c: (c / "compare.json").write_text("[1, 2]"), "damaged"),
        "run-gone": (lambda c: shutil.rmtree(tmp_path / "a2"), "'twin' cannot be read"),
    }
    for name, (damage, words) in cases.items():
        c = shutil.copytree(compared, tmp_path / f"c-{name}")
        damage(c)
        _refused(_cli("report", c, cwd=tmp_path), words)
        assert not (c / "report.html").exists()


def test_compare_refuses_other_windows_and_horizons(run_a: Path, tmp_path: Path) -> None:
    for name, old, new, words in [
            ("until", "[output]\n", "[output]\nmeasure_until = 2025-06-01\n",
             "measured window 2025-01-01 to 2025-06-01"),
            ("from", "[output]\n", "[output]\nmeasure_from = 2025-03-01\n",
             "measured window 2025-03-01 to 2025-08-29"),
            ("horizon", "horizon_days = 240.0", "horizon_days = 241.0", "+ 241 days")]:
        b = _copy(run_a, tmp_path / name)
        _edit_config(b, old, new)
        with pytest.raises(FolderError, match="must share their measured window") as exc:
            sim.compare(run_a, b, out=tmp_path / f"cmp-{name}", plots=False)
        assert words in str(exc.value) and "2025-01-01 to 2025-08-29" in str(exc.value)
        assert not (tmp_path / f"cmp-{name}").exists()
    # configs: refused before anything runs
    (tmp_path / "later.toml").write_text(f'extends = "{SMALL.as_posix()}"\nname = "later"\n'
                                         "[output]\nmeasure_from = 2025-04-01\n")
    r = _cli("compare", SMALL, tmp_path / "later.toml", "--out", "c", cwd=tmp_path)
    _refused(r, "measured window 2025-04-01", "measured window 2025-01-01")
    assert not (tmp_path / "c").exists()


class _Run:
    """What compare reads of a stored run: one firm per sector, given tts and ttr."""

    def __init__(self, tts: dict[str, list[float]], ttr: dict[str, list[float]] | None = None,
                 frac: float = 0.1) -> None:
        n = len(next(iter(tts.values())))
        ttr = ttr or {s: [5.0] * n for s in tts}
        self.firms = pd.DataFrame([
            {"replication": i, "firm": f"f-{s}", "sector": s, "planned_value": 100.0,
             "value_lost": 100.0 * frac, "tts_days": t[i], "ttr_days": ttr[s][i]}
            for s, t in tts.items() for i in range(n)])
        self.authority = pd.DataFrame({"replication": range(n), "lead_time_mean": 50.0,
                                       "over_limit_share": 0.2})
        self.manifest = {"seed": 1}
        self.replications = n
        self.config = sim.load_config(SMALL)
        self.path = Path("fake")

    def sectors(self) -> pd.DataFrame:
        from sim.analysis.stats import sector_table

        return sector_table(self.firms)


def test_a_sector_in_one_run_only_is_shown_not_dropped() -> None:
    nan = float("nan")
    a = _Run({"auto": [10.0, 20.0], "defence": [5.0, nan]})
    b = _Run({"auto": [12.0, 20.0], "tech": [7.0, 8.0]})
    t = compare_runs([a, b], ["A", "B"])
    for sector, only in (("defence", "A"), ("tech", "B")):
        rows = t[t.name == sector]
        assert len(rows) and set(rows["only_in"]) == {only}
        assert rows["diff"].isna().all() and (rows["n"] == 0).all()
    assert (t[t.name == "auto"]["only_in"] == "").all()
    from sim.report.compare import compare_markdown

    md = compare_markdown(t, ["A", "B"], ["a", "b"], True, 2, 1, [])
    assert "only in A: not compared" in md and "only in B: not compared" in md


def test_time_to_stock_out_is_censored_not_dropped() -> None:
    """A replication without a stock-out counts at the restriction (240 days for small):
    the restricted mean and the stock-out share are over every replication; TTR over the
    pairs both have, with the counts shown."""
    nan = float("nan")
    tau = restriction_days(sim.load_config(SMALL))
    assert tau == 240.0
    ref = _Run({"auto": [30.0, 40.0, nan, nan]}, {"auto": [10.0, 20.0, nan, nan]})
    alt = _Run({"auto": [20.0, nan, 50.0, 300.0]}, {"auto": [4.0, nan, 6.0, nan]})
    t = compare_runs([ref, alt], ["ref", "alt"]).set_index("metric")
    share = t.loc["stockout_share"]
    assert share["diff"] == pytest.approx(np.mean([0, -1, 1, 1]))
    assert (share["reference_mean"], share["alternative_mean"]) == (0.5, 0.75)
    rmst = t.loc["tts_rmst_days"]
    r_ref = np.array([30.0, 40.0, tau, tau])
    r_alt = np.array([20.0, tau, 50.0, tau])  # 300 days is past the window: tau
    assert rmst["n"] == 4 and rmst["diff"] == pytest.approx(np.mean(r_alt - r_ref))
    ttr = t.loc["ttr_days"]
    assert (ttr["n"], ttr["reference_n"], ttr["alternative_n"]) == (1, 2, 2)
    assert ttr["diff"] == pytest.approx(4.0 - 10.0)
    from sim.report.compare import compare_rows

    shown = {r[0]: r[-1] for r in compare_rows(t.reset_index())}
    assert shown["auto ttr_days"] == "2 / 2 / 1" and shown["auto tts_rmst_days"] == \
        "4 / 4 / 4"


# --------------------------------------------------------------------------- user strings


LABELS = ["$x$", r"\frac{a}{b}", "a_b^c", "50% $", "<b>bold</b> | pipe\nline"]


def test_user_labels_are_drawn_and_written_literally(run_a: Path, tmp_path: Path) -> None:
    copies = [_copy(run_a, tmp_path / f"l{i}", lab) for i, lab in enumerate(LABELS)]
    cmp = sim.compare(run_a, *copies, out=tmp_path / "cmp")
    assert cmp.labels[1:] == LABELS
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert "$x$" in html and r"\frac{a}{b}" in html  # drawn as text (SVG), as written
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "<b>" not in md and "&lt;b&gt;bold&lt;/b&gt; \\| pipe line" in md
    head = next(ln for ln in md.splitlines() if ln.startswith("| metric"))
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ln != head]
    cells = head.replace("\\|", "").count("|")
    assert rows and all(r.replace("\\|", "").count("|") == cells for r in rows)


@pytest.mark.slow  # seconds of computing: make test runs it, test-fast does not
def test_figures_draw_mathtext_like_names_literally(run_a: Path, tmp_path: Path) -> None:
    """A config name matplotlib would read as TeX: the run's plots and report are drawn."""
    from matplotlib.figure import Figure

    from sim.report.figures import save

    bad = r"$\frac{1}{$"
    fig = Figure()
    fig.suptitle(bad)
    with pytest.raises(ValueError):  # matplotlib's default: a mathtext error
        fig.savefig(tmp_path / "raw.png")
    fig = Figure()
    fig.subplots().set_title(bad)
    save(fig, tmp_path / "ok.png")
    assert (tmp_path / "ok.png").stat().st_size > 1000
    f = _copy(run_a, tmp_path / "named")
    _edit_config(f, 'name = "small"', 'name = "$\\\\frac{1}{$ 5% a_b^c"')
    res = sim.Results(f)
    assert len(res.plot()) > 2
    assert sim.api.report(f).stat().st_size > 10_000


def test_md_text_escapes_markup() -> None:
    s = "<script>x</script> & a|b `c` [l](u)\r\nz\\"
    out = md_text(s)
    for bad in ("<", ">", "\n", "\r"):
        assert bad not in out
    assert out == ("&lt;script&gt;x&lt;/script&gt; &amp; a\\|b \\`c\\` \\[l\\](u) z\\\\")
    table = markdown_table(pd.DataFrame({"a|b": ["x|y", "<i>"], "n": [1.5, 2.0]}))
    assert table.splitlines()[0] == "| a\\|b | n |"
    assert table.splitlines()[2] == "| x\\|y | 1.5 |"
    assert table.splitlines()[3] == "| &lt;i&gt; | 2 |"
