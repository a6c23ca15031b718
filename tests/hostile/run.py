"""Run the hostile cases and classify each outcome.

    python -m tests.hostile.run [--only CLASS[,CLASS]] [--case ID] [--fast] [--json OUT]

Kinds: pass; wrong-numbers-exit-0 (exit 0, the check on the files failed);
silent-accept (expected a refusal, got exit 0); lost-data (a user's file changed or
vanished); hang (killed at the timeout); traceback (a Traceback, an internal error or
exit 1); bad-message (exit 2 but the message is not one line per error naming the file or
field); half-written (refused, but left its output folder or file behind); false-refusal
(valid input refused); setup-error (the probe could not build what the case needs)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cases import CASES
from .harness import OK, REFUSE, ROOT, TREE, Case, Ctx, FixtureError, Proc, rareshock, snapshot

KINDS = ["pass", "wrong-numbers-exit-0", "silent-accept", "lost-data", "hang", "traceback",
         "bad-message", "half-written", "false-refusal", "setup-error"]


KIND_TEXT = """- pass
- wrong-numbers-exit-0: exit 0, and the check on the files failed
- silent-accept: a refusal was expected, the command exited 0
- lost-data: a user's file changed or vanished
- hang: no answer within the case's timeout (killed)
- traceback: a Traceback, an internal error or exit 1
- bad-message: exit 2, but not one line per error naming the file or field
- half-written: refused, but left its output behind
- false-refusal: valid input refused
- setup-error: the probe could not build what the case needs"""


@dataclass
class Outcome:
    cls: str
    id: str
    kind: str
    detail: str
    seconds: float
    returncode: int | None


def _message(case: Case, proc: Proc, tmp: Path, before_out: dict[str, str] | None) -> str | None:
    """What is wrong with a refusal (exit 2), or None."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("rareshock: error:")]
    if not errors:
        return f"exit 2 without a 'rareshock: error:' line: {proc.stderr.strip()[:200]!r}"
    stray = [ln for ln in lines if not ln.startswith("rareshock:")]
    if stray:
        return f"the message runs over {len(stray) + len(errors)} lines: {stray[0][:120]!r}"
    if case.needle and not all(any(n in e for n in case.needle) for e in errors):
        return f"the error names none of {list(case.needle)}: {errors[0][:200]!r}"
    if case.out is not None and before_out is not None:
        after = snapshot(tmp, [case.out])
        if after != before_out:
            return f"refused, but wrote {case.out}"
    return None


def classify(case: Case, ctx: Ctx, tmp: Path, proc: Proc, protected: dict[str, str],
             before_out: dict[str, str] | None) -> tuple[str, str]:
    """The kind of outcome, and a one-line detail."""
    if proc.returncode is None:
        return "hang", f"no answer in {case.timeout:.0f} s"
    after = snapshot(tmp, case.protect)
    changed = sorted(k for k, v in protected.items() if after.get(k) != v)
    if changed:
        return "lost-data", f"changed or removed: {', '.join(changed)[:200]}"
    err = proc.stderr
    if "Traceback" in err or proc.returncode == 1 or "internal error" in err:
        last = [ln for ln in err.splitlines() if ln.strip()][-1:] or [""]
        return "traceback", f"exit {proc.returncode}: {last[0][:200]}"
    if proc.returncode not in (0, 2):
        return "traceback", f"exit {proc.returncode}: {err.strip()[-200:]}"
    if proc.returncode == 2:
        if case.expect == OK:
            return "false-refusal", err.strip()[:200]
        bad = _message(case, proc, tmp, before_out)
        if bad:
            return ("half-written" if bad.startswith("refused, but wrote") else "bad-message",
                    bad)
        return "pass", err.strip()[:160]
    # exit 0
    if case.expect == REFUSE:
        said = f"; stderr {err.strip()[:120]!r}" if err.strip() else ""
        return "silent-accept", "exit 0" + said
    if case.check is not None:
        try:
            bad = case.check(ctx, tmp, proc)
        except FixtureError as exc:
            return "setup-error", str(exc)[:200]
        except Exception as exc:  # the files the check reads are missing or unreadable
            bad = f"check could not read the output: {type(exc).__name__}: {exc}"[:200]
        if bad:
            return "wrong-numbers-exit-0", bad
    return "pass", ""


def run_case(case: Case, ctx: Ctx) -> Outcome:
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"hostile-{case.id}-", dir=ctx.session) as d:
        tmp = Path(d)
        try:
            argv = case.setup(ctx, tmp)
        except FixtureError as exc:
            return Outcome(case.cls, case.id, "setup-error", str(exc)[:300],
                           time.monotonic() - t0, None)
        protected = snapshot(tmp, case.protect)
        before_out = snapshot(tmp, [case.out]) if case.out else None
        proc = rareshock(argv, tmp, case.timeout)
        kind, detail = classify(case, ctx, tmp, proc, protected, before_out)
        return Outcome(case.cls, case.id, kind, detail, time.monotonic() - t0, proc.returncode)


def table(outcomes: list[Outcome]) -> str:
    """Markdown table by class: cases, pass, and each failure kind."""
    fails = [k for k in KINDS[1:] if any(o.kind == k for o in outcomes)] or KINDS[1:4]
    head = ["class", "cases", "pass", *fails]
    rows = []
    classes = list(dict.fromkeys(o.cls for o in outcomes))
    for cls in [*classes, "total"]:
        os_ = [o for o in outcomes if cls in ("total", o.cls)]
        rows.append([f"**{cls}**" if cls == "total" else cls, str(len(os_)),
                     *(str(sum(o.kind == k for o in os_)) for k in ["pass", *fails])])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def details(outcomes: list[Outcome]) -> str:
    lines = ["| case | outcome | s | detail |", "|---|---|---|---|"]
    for o in outcomes:
        d = o.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {o.cls}/{o.id} | {o.kind} | {o.seconds:.0f} | {d[:160]} |")
    return "\n".join(lines)


def markdown(outcomes: list[Outcome], command: str, wall: float) -> str:
    """The table and every case's outcome as a markdown page, with the command, the date,
    the commit of the tree that ran, and the cases per class."""
    import datetime
    import subprocess

    rev = subprocess.run(["git", "-C", str(TREE), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "?"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    slow = {(c.cls, c.id) for c in CASES if c.slow}
    classes = list(dict.fromkeys(o.cls for o in outcomes))
    counts = ["| class | cases | fast | slow |", "|---|---|---|---|"]
    for cls in [*classes, "total"]:
        os_ = [o for o in outcomes if cls in ("total", o.cls)]
        n_slow = sum((o.cls, o.id) in slow for o in os_)
        counts.append(f"| {cls} | {len(os_)} | {len(os_) - n_slow} | {n_slow} |")
    secs = {k: sum(o.seconds for o in outcomes if ((o.cls, o.id) in slow) == k)
            for k in (False, True)}
    return (f"# Hostile probe\n\n`{command}`, finished {when}, tree at {rev}: "
            f"{len(outcomes)} cases, at most 2 at a time, {wall:.0f} s wall (case time: "
            f"fast {secs[False]:.0f} s, slow {secs[True]:.0f} s).\n\n"
            f"Kinds:\n\n{KIND_TEXT}\n\n{table(outcomes)}\n\nCases per class (fast: run by "
            "`--fast` and by tests/test_hostile_probe.py; slow: calibration, plots, the HTML "
            f"report):\n\n" + "\n".join(counts) + f"\n\n## Every case\n\n{details(outcomes)}\n")


def select(only: str | None, case_id: str | None, fast: bool, slow: bool = False
           ) -> list[Case]:
    chosen = CASES
    if only:
        wanted = set(only.split(","))
        unknown = wanted - {c.cls for c in CASES}
        if unknown:
            raise SystemExit(f"unknown class {sorted(unknown)}; classes: "
                             f"{sorted({c.cls for c in CASES})}")
        chosen = [c for c in chosen if c.cls in wanted]
    if case_id:
        chosen = [c for c in chosen if case_id in (c.id, f"{c.cls}/{c.id}")]
    if fast:
        chosen = [c for c in chosen if not c.slow]
    if slow:
        chosen = [c for c in chosen if c.slow]
    return chosen


def run_all(cases: list[Case], parallel: int = 2, progress: bool = True) -> list[Outcome]:
    """Run `cases` (at most `parallel` at a time), in their order in the result."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as session:
        ctx = Ctx(Path(session))

        def one(c: Case) -> Outcome:
            o = run_case(c, ctx)
            if progress:
                print(f"{o.kind:>22}  {o.cls}/{o.id} ({o.seconds:.0f} s) {o.detail[:100]}",
                      file=sys.stderr, flush=True)
            return o

        # slow cases first, so the pool does not end on a long tail
        order = sorted(range(len(cases)), key=lambda i: (not cases[i].slow, i))
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            done = dict(zip(order, pool.map(one, [cases[i] for i in order]), strict=True))
        return [done[i] for i in range(len(cases))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.hostile.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", metavar="CLASS", help="only these classes (comma-separated)")
    ap.add_argument("--case", metavar="ID", help="only this case (ID or CLASS/ID)")
    ap.add_argument("--fast", action="store_true", help="skip the slow (calibration, plot) cases")
    ap.add_argument("--slow", action="store_true", help="only the slow cases")
    ap.add_argument("--json", metavar="OUT", help="write every outcome as JSON")
    ap.add_argument("--markdown", metavar="OUT", help="write the table and every outcome "
                    "as a markdown page (with the command, date and commit)")
    ap.add_argument("--details", action="store_true", help="print every case's outcome")
    ap.add_argument("-j", "--parallel", type=int, default=2, help="cases at once (default 2)")
    args = ap.parse_args(argv)
    cases = select(args.only, args.case, args.fast, args.slow)
    t0 = time.monotonic()
    outcomes = run_all(cases, args.parallel)
    wall = time.monotonic() - t0
    print(table(outcomes))
    print(f"\n{len(outcomes)} cases in {wall:.0f} s (sim of {TREE}; cases of {ROOT})")
    if args.details:
        print("\n" + details(outcomes))
    if args.markdown:
        cmd = "python -m tests.hostile.run " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.markdown).write_text(markdown(outcomes, cmd.strip(), wall))
    if args.json:
        Path(args.json).write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    return 0 if all(o.kind == "pass" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
