"""Config loading: TOML, `extends`, `--set` overrides, validation and its error messages.

Every bad input must raise ConfigError whose str is ONE line of the form
``SOURCE: field.path: what is wrong`` (``SOURCE: what is wrong`` for whole-file problems),
where SOURCE is the file or ``--set``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.config import config_from_dict, load_config, parse_override, read_toml_tree
from sim.config.distributions import (
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)
from sim.config.schema import Config
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
MMC = ROOT / "configs" / "mmc.toml"
BASE = MMC.read_text()

EXP = '{ dist = "exponential", mean = 1.0 }'  # review_time in mmc.toml

# A firm fed by one controlled supplier; appended to BASE it gives a valid config.
FIRM = """
[suppliers.china]
kind = "controlled"
materials = ["ndfeb_magnet"]
transit_days = { dist = "constant", value = 30.0 }

[firms.x]
sector = "auto"
destination = "ROW"
units_per_day = 10
bom = { ndfeb_magnet = 1.5 }
initial_cover_days = 60
ordering = { target_cover_days = 60, suppliers = { china = 1.0 } }
"""

POLICY = """
[[policy]]
type = "controls_start"
date = 2025-03-01
materials = ["ndfeb_magnet"]
probability = 0.9
"""


def sub(old: str, new: str, text: str = BASE) -> str:
    """`text` with `old` (which must occur exactly once) replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def firm(old: str = "", new: str = "") -> str:
    return BASE + (sub(old, new, FIRM) if old else FIRM)


def review_time(spec: str) -> str:
    return sub(f"review_time = {EXP}", f"review_time = {spec}")


def policy(body: str) -> str:
    return BASE + f"\n[[policy]]\ndate = 2025-03-01\n{body}\n"


def line_of(needle: str, text: str = BASE) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)


# --------------------------------------------------------------------------- loading


def test_mmc_loads_with_attribute_access() -> None:
    cfg = load_config(MMC)
    assert isinstance(cfg, Config)
    assert cfg.name == "mmc"
    assert cfg.horizon_days == 2000
    assert cfg.runs.warmup_days == 100
    assert cfg.runs.replications == 20
    assert cfg.authority.reviewers == 5
    assert cfg.authority.discipline == "fifo"
    assert cfg.calendar.start == date(2025, 1, 1)
    assert cfg.calendar.working_days == "all"
    assert isinstance(cfg.authority.review_time, Exponential)
    assert cfg.authority.review_time.mean == 1.0
    assert cfg.authority.background.materials == {"ndfeb_magnet": 1.0}
    assert cfg.materials["ndfeb_magnet"].controlled_at_start is True
    assert set(cfg.destinations) == {"ROW"}


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "configs").rglob("*.toml")
           if p.parent.name != "observed"),
    ids=lambda p: str(p.relative_to(ROOT / "configs")),
)
def test_every_shipped_config_loads(path: Path) -> None:
    assert isinstance(load_config(path), Config)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "configs" / "observed").glob("*.toml")), ids=lambda p: p.name)
def test_every_observed_data_file_validates(path: Path) -> None:
    import tomllib

    from sim.config.observed import ObservedData

    obs = ObservedData.model_validate(tomllib.loads(path.read_text()))
    assert obs.fit_months and obs.held_out_months


def test_observed_file_is_read_relative_to_the_config_naming_it(tmp_path: Path) -> None:
    """The baseline names observed/2025.toml; a scenario elsewhere that extends it keeps
    those observations, inlined, and the FACTS §2 May figure is there."""
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    (sub / "s.toml").write_text(f'extends = "{ROOT / "configs" / "baseline.toml"}"\n')
    cfg = load_config(sub / "s.toml")
    assert cfg.observed is not None
    total = cfg.observed.exports.series[0]
    assert total.name == "total" and total.months["2025-05"] == 1238.0
    assert [s.firm for s in cfg.observed.stoppages][:2] == ["us_auto_ev", "us_auto_ice"]


def test_observed_errors_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(
        f'extends = "{ROOT / "configs" / "baseline.toml"}"\nobserved = "nosuch.toml"\n')
    with pytest.raises(ConfigError, match=r"c.toml: observed: no such file 'nosuch.toml'"):
        load_config(tmp_path / "c.toml")
    (tmp_path / "o.toml").write_text(
        '[[stoppages]]\nfirm = "ghost"\nevent = "x"\ndate = 2025-05-01\n')
    (tmp_path / "d.toml").write_text(
        f'extends = "{ROOT / "configs" / "baseline.toml"}"\nobserved = "o.toml"\n')
    with pytest.raises(ConfigError) as e:  # the file the mistake is in, the path inside it
        load_config(tmp_path / "d.toml")
    assert str(e.value).startswith(f"{tmp_path / 'o.toml'}: stoppages.0.firm: unknown firm "
                                   "'ghost'")
    (tmp_path / "e.toml").write_text('extends = "d.toml"\nname = "e"\n')  # inherited too
    with pytest.raises(ConfigError, match=r"o.toml: stoppages.0.firm: unknown firm"):
        load_config(tmp_path / "e.toml")
    with pytest.raises(ConfigError) as e:  # named by --set: --set carries the blame
        load_config(ROOT / "configs" / "baseline.toml", [f"observed={tmp_path / 'o.toml'}"])
    assert e.value.source == "--set" and e.value.path == "observed.stoppages.0.firm"


def test_load_accepts_str_path() -> None:
    assert load_config(str(MMC)).authority.reviewers == 5


def test_config_is_frozen() -> None:
    cfg = load_config(MMC)
    with pytest.raises(ValidationError):
        cfg.horizon_days = 10  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.authority.reviewers = 7  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.runs.warmup_days = 0.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.authority.review_time.mean = 2.0  # type: ignore[union-attr]
    assert cfg.authority.reviewers == 5


def test_firm_supplier_and_policy_config_loads(tmp_path: Path) -> None:
    write(tmp_path, {"c.toml": firm() + POLICY})
    cfg = load_config(tmp_path / "c.toml")
    f = cfg.firms["x"]
    assert f.sector == "auto" and f.bom == {"ndfeb_magnet": 1.5}
    assert f.ordering.suppliers == {"china": 1.0}
    assert f.ordering.review_period_days == 7.0  # default
    assert cfg.suppliers["china"].kind == "controlled"
    assert isinstance(cfg.suppliers["china"].transit_days, Constant)
    assert cfg.policy[0].type == "controls_start"
    assert cfg.policy[0].probability == 0.9


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_config(tmp_path / "bom.toml").authority.reviewers == 5


def test_config_from_dict_names_its_source() -> None:
    with pytest.raises(ConfigError) as ei:
        config_from_dict({"horizon_days": 1})
    assert str(ei.value).startswith("<config>: ")
    with pytest.raises(ConfigError, match=r"^scenario-x: calendar: required field is missing"):
        config_from_dict({"horizon_days": 1}, source="scenario-x")


def test_default_distributions_are_distribution_objects(tmp_path: Path) -> None:
    write(tmp_path, {"c.toml": firm()})
    cfg = load_config(tmp_path / "c.toml")
    assert isinstance(cfg.authority.refusal.resubmit_after_days, Constant)
    assert isinstance(cfg.suppliers["china"].production_days, Constant)
    assert isinstance(cfg.suppliers["china"].customs_hold.days, Constant)


# --------------------------------------------------------------------------- extends


def test_extends_overrides_one_nested_value_and_keeps_the_rest(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": BASE,
            # relative to the child's own folder, not to the working directory
            "scenarios/child.toml": 'extends = "../base.toml"\nname = "child"\n'
            "[authority]\nreviewers = 7\n",
        },
    )
    cfg = load_config(tmp_path / "scenarios" / "child.toml")
    assert cfg.name == "child"
    assert cfg.authority.reviewers == 7
    base = load_config(MMC)
    assert cfg.authority.review_time == base.authority.review_time
    assert cfg.authority.discipline == "fifo"
    assert cfg.authority.background == base.authority.background
    assert cfg.authority.decision == base.authority.decision
    assert cfg.horizon_days == 2000
    assert cfg.runs == base.runs
    assert cfg.calendar == base.calendar


def test_a_child_table_of_shares_replaces_the_parents_whole(tmp_path: Path) -> None:
    # Shares merged key by key from two files would not sum to 1: a child naming other
    # targets for re-sourcing (or other suppliers) means those alone.
    base = ROOT / "configs" / "baseline.toml"
    parent = read_toml_tree(base)
    assert parent["firms"]["us_auto_ev"]["ordering"]["resourcing"]["to"] == \
        {"china_motors": 1.0}
    (tmp_path / "child.toml").write_text(
        f'extends = "{base.as_posix()}"\n[firms.us_auto_ev.ordering.resourcing]\n'
        'to = { row = 1.0 }\n')
    cfg = load_config(tmp_path / "child.toml")
    assert cfg.firms["us_auto_ev"].ordering.resourcing.to == {"row": 1.0}
    # an unknown name is named as such (merged, it read "they sum to 2")
    (tmp_path / "bad.toml").write_text(
        f'extends = "{base.as_posix()}"\n[firms.us_auto_ev.ordering.resourcing]\n'
        'to = { nosuch = 1.0 }\n')
    with pytest.raises(ConfigError, match="unknown supplier 'nosuch'"):
        load_config(tmp_path / "bad.toml")
    # tables of other tables still merge: the child's one supplier joins the others
    (tmp_path / "sup.toml").write_text(
        f'extends = "{base.as_posix()}"\n[suppliers.row]\ncapacity_kg_per_day = 1.0\n')
    assert set(read_toml_tree(tmp_path / "sup.toml")["suppliers"]) == set(parent["suppliers"])


def test_extends_is_relative_to_the_child_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "a/base.toml": BASE,
            "a/child.toml": 'extends = "base.toml"\n',
            "elsewhere/base.toml": "garbage = [\n",
        },
    )
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_config(Path("..") / "a" / "child.toml").authority.reviewers == 5


def test_extends_chain_of_two(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": BASE,
            "mid/mid.toml": 'extends = "../base.toml"\nhorizon_days = 150\n'
            '[authority]\nreviewers = 6\ndiscipline = "priority"\n',
            "top/child.toml": 'extends = "../mid/mid.toml"\n[authority]\nreviewers = 7\n'
            "[runs]\nseed = 99\n",
        },
    )
    cfg = load_config(tmp_path / "top" / "child.toml")
    assert cfg.authority.reviewers == 7  # child beats mid
    assert cfg.authority.discipline == "priority"  # from mid
    assert cfg.horizon_days == 150  # from mid
    assert cfg.runs.seed == 99 and cfg.runs.replications == 20  # child + base merged
    assert cfg.runs.warmup_days == 100  # from base
    assert isinstance(cfg.authority.review_time, Exponential)  # from base


def test_extends_key_is_not_left_in_the_data(tmp_path: Path) -> None:
    write(tmp_path, {"base.toml": BASE, "child.toml": 'extends = "base.toml"\n'})
    assert "extends" not in read_toml_tree(tmp_path / "child.toml")


def test_child_distribution_replaces_the_base_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": review_time('{ dist = "triangular", low = 0.5, mode = 1.0, high = 2.0 }'),
            "child.toml": 'extends = "base.toml"\n[authority]\n'
            'review_time = { dist = "exponential", mean = 3.0 }\n',
        },
    )
    assert isinstance(load_config(tmp_path / "base.toml").authority.review_time, Triangular)
    rt = load_config(tmp_path / "child.toml").authority.review_time
    assert isinstance(rt, Exponential)
    assert rt.mean == 3.0
    assert not hasattr(rt, "low") and not hasattr(rt, "mode")
    raw = read_toml_tree(tmp_path / "child.toml")["authority"]["review_time"]
    assert raw == {"dist": "exponential", "mean": 3.0}


def test_child_table_without_dist_merges_into_base_distribution(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": BASE,
            "child.toml": 'extends = "base.toml"\n[authority.review_time]\nmean = 2.5\n',
        },
    )
    rt = load_config(tmp_path / "child.toml").authority.review_time
    assert isinstance(rt, Exponential) and rt.mean == 2.5


def test_child_array_replaces_base_array(tmp_path: Path) -> None:
    hol = (
        "\nholidays = [{ start = 2025-05-01, end = 2025-05-02 }, "
        "{ start = 2025-12-24, end = 2025-12-26 }]"
    )
    write(
        tmp_path,
        {
            "base.toml": sub('working_days = "all"', 'working_days = "all"' + hol),
            "child.toml": 'extends = "base.toml"\n[calendar]\n'
            'holidays = [{ name = "x", start = 2025-08-15, end = 2025-08-15 }]\n',
        },
    )
    assert len(load_config(tmp_path / "base.toml").calendar.holidays) == 2
    (h,) = load_config(tmp_path / "child.toml").calendar.holidays
    assert h.name == "x" and h.start == h.end == date(2025, 8, 15)


# --------------------------------------------------------------------------- overrides


def test_override_int() -> None:
    cfg = load_config(MMC, ["authority.reviewers=7"])
    assert cfg.authority.reviewers == 7
    assert type(cfg.authority.reviewers) is int


def test_override_date() -> None:
    assert load_config(MMC, ["calendar.start=2025-02-01"]).calendar.start == date(2025, 2, 1)


def test_override_bare_word_is_a_string() -> None:
    assert load_config(MMC, ["authority.discipline=priority"]).authority.discipline == "priority"
    assert load_config(MMC, ["name=hello world"]).name == "hello world"
    assert load_config(MMC, ['name="quoted"']).name == "quoted"


def test_override_inline_table_replaces_distribution() -> None:
    cfg = load_config(MMC, ['authority.review_time={dist="constant", value=2.0}'])
    assert cfg.authority.review_time == Constant(value=2.0)


def test_override_float_bool_and_spaces() -> None:
    cfg = load_config(
        MMC, [" horizon_days = 365.5 ", "materials.ndfeb_magnet.controlled_at_start=false"]
    )
    assert cfg.horizon_days == 365.5
    assert cfg.materials["ndfeb_magnet"].controlled_at_start is False


def test_set_into_an_entry_the_config_does_not_define_names_it() -> None:
    # It read as eight lines of missing fields, seven of them blaming the file. (A new
    # entry whose fields all validate is added: the validation report adds destinations.)
    base = ROOT / "configs" / "baseline.toml"
    with pytest.raises(ConfigError) as info:
        load_config(base, ["firms.nosuch.ordering.resourcing.move_share=0.5"])
    err = info.value
    assert (err.source, err.path, err.more) == ("--set", "firms.nosuch", ())
    assert err.message.startswith("unknown firm 'nosuch'")
    with pytest.raises(ConfigError, match="unknown supplier 'chnia'; did you mean 'china'"):
        load_config(base, ["suppliers.chnia.capacity_kg_per_day=1"])
    # an entry the config defines is changed as before
    cfg = load_config(base, ["firms.us_auto_ev.ordering.resourcing.move_share=0.5"])
    assert cfg.firms["us_auto_ev"].ordering.resourcing.move_share == 0.5


def test_overrides_apply_in_order_after_extends(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"base.toml": BASE, "child.toml": 'extends = "base.toml"\n[authority]\nreviewers = 7\n'},
    )
    cfg = load_config(tmp_path / "child.toml", ["authority.reviewers=8", "authority.reviewers=9"])
    assert cfg.authority.reviewers == 9


def test_override_into_distribution_field() -> None:
    assert load_config(MMC, ["authority.review_time.mean=0.5"]).authority.review_time.mean == 0.5


def test_override_list_index(tmp_path: Path) -> None:
    hol = "\nholidays = [{ start = 2025-05-01, end = 2025-05-02 }]"
    write(tmp_path, {"c.toml": sub('working_days = "all"', 'working_days = "all"' + hol) + POLICY})
    cfg = load_config(
        tmp_path / "c.toml", ["policy.0.probability=0.5", "calendar.holidays.0.end=2025-05-09"]
    )
    assert cfg.policy[0].probability == 0.5
    assert cfg.calendar.holidays[0].end == date(2025, 5, 9)
    cfg = load_config(tmp_path / "c.toml", ['policy.0={type="suspend_approvals", date=2025-04-01}'])
    assert cfg.policy[0].type == "suspend_approvals"


def test_overrides_do_not_leak_between_loads() -> None:
    assert load_config(MMC, ["authority.reviewers=7"]).authority.reviewers == 7
    assert load_config(MMC).authority.reviewers == 5


def test_parse_override() -> None:
    assert parse_override("a.b.c=1") == (["a", "b", "c"], 1)
    assert parse_override("a = 2025-02-01") == (["a"], date(2025, 2, 1))
    assert parse_override("a=[1, 2]") == (["a"], [1, 2])
    assert parse_override("a=word") == (["a"], "word")


# --------------------------------------------------------------------------- distributions


@pytest.mark.parametrize(
    ("spec", "cls", "mean"),
    [
        ('{ dist = "exponential", mean = 2.0 }', Exponential, 2.0),
        ('{ dist = "lognormal", median = 2.0, sigma = 0.0 }', Lognormal, 2.0),
        ('{ dist = "lognormal", median = 1.0, sigma = 0.5 }', Lognormal, 1.1331484530668263),
        ('{ dist = "triangular", low = 0.0, mode = 1.0, high = 5.0 }', Triangular, 2.0),
        ('{ dist = "triangular", low = 1.0, mode = 1.0, high = 4.0 }', Triangular, 2.0),
        ('{ dist = "uniform", low = 0.0, high = 3.0 }', Uniform, 1.5),
        ('{ dist = "gamma", mean = 2.0, cv = 0.5 }', Gamma, 2.0),
        ('{ dist = "constant", value = 2.0 }', Constant, 2.0),
        ('{ dist = "constant", value = 0 }', Constant, 0.0),
        ('{ dist = "empirical", values = [1.0, 2.0, 6.0] }', Empirical, 3.0),
        ('{ dist = "empirical", values = [4] }', Empirical, 4.0),
    ],
    ids=[
        "exponential",
        "lognormal-degenerate",
        "lognormal",
        "triangular",
        "triangular-mode-at-low",
        "uniform",
        "gamma",
        "constant",
        "constant-zero",
        "empirical",
        "empirical-one",
    ],
)
def test_each_distribution_family_is_accepted(
    tmp_path: Path, spec: str, cls: type, mean: float
) -> None:
    write(tmp_path, {"c.toml": review_time(spec)})
    cfg = load_config(tmp_path / "c.toml")
    rt = cfg.authority.review_time
    assert isinstance(rt, cls)
    assert rt.expected == pytest.approx(mean)
    # the same spec is accepted everywhere a distribution is
    cfg2 = load_config(
        MMC, [f"authority.background.quantity_kg={spec}", f"authority.pre_acceptance={spec}"]
    )
    assert isinstance(cfg2.authority.background.quantity_kg, cls)
    assert isinstance(cfg2.authority.pre_acceptance, cls)


# --------------------------------------------------------------------------- bad inputs


@dataclass(frozen=True)
class Bad:
    """A bad input: files to write, the one to load, overrides, and the expected error.

    `source` is a file name under tmp_path or "--set"; `path` the field path ("" for
    whole-file problems); `what` substrings of the message.
    """

    files: dict[str, str | bytes]
    source: str
    path: str
    what: tuple[str, ...]
    entry: str = "c.toml"
    overrides: tuple[str, ...] = ()


def bad(text: str | bytes, path: str, *what: str, overrides: tuple[str, ...] = ()) -> Bad:
    return Bad(
        {"c.toml": text},
        "--set" if overrides and path else "c.toml",
        path,
        what,
        overrides=overrides,
    )


def bad_set(override: str, path: str, *what: str, text: str = BASE) -> Bad:
    return Bad({"c.toml": text}, "--set", path, what, overrides=(override,))


BAD: dict[str, Bad] = {
    # ---- the file itself
    "malformed-toml": bad("horizon_days = \n", "", "invalid TOML", "line 1"),
    "unclosed-table": bad(BASE + "\n[authority\n", "", "invalid TOML"),
    "duplicate-key": bad("horizon_days = 3\n" + BASE, "", "invalid TOML", "line "),
    "empty-file": bad("", "", "file is empty"),
    "whitespace-only": bad("  \n\t\n   \n", "", "file is empty"),
    "binary-invalid-utf8": bad(b"\xff\xfe\x00\x01\x80binary", "", "not a text file", "UTF-8"),
    "binary-nul-byte": bad(b"name = 'x'\x00\n", "", "not a text file", "NUL"),
    "folder": Bad({"adir/c.toml": BASE}, "adir", "", ("is a folder",), entry="adir"),
    "missing-file": Bad({}, "nosuch.toml", "", ("no such file",), entry="nosuch.toml"),
    # ---- keys and types
    "unknown-top-level-key": bad("bogus = 1\n" + BASE, "bogus", "unknown key"),
    "unknown-nested-key": bad(
        sub('discipline = "fifo"', 'discipline = "fifo"\nnosuch = 1'),
        "authority.nosuch",
        "unknown key",
    ),
    "unknown-key-in-distribution": bad(
        review_time('{ dist = "exponential", mean = 1.0, low = 2 }'),
        "authority.review_time.low",
        "unknown key",
    ),
    "key-with-newline-quoted": bad('"a\\nb" = 1\n' + BASE, '"a\\nb"', "unknown key"),
    "bad-material-name": bad(
        BASE + '\n[materials."bad name"]\n', 'materials."bad name"', "invalid name", "'bad name'"
    ),
    "reviewers-string": bad(
        sub("reviewers = 5", 'reviewers = "five"'), "authority.reviewers", "whole number", "'five'"
    ),
    "reviewers-fraction": bad(
        sub("reviewers = 5", "reviewers = 2.5"), "authority.reviewers", "whole number", "2.5"
    ),
    "reviewers-zero": bad(
        sub("reviewers = 5", "reviewers = 0"),
        "authority.reviewers",
        "greater than or equal to 1",
        "got 0",
    ),
    "reviewers-missing": bad(sub("reviewers = 5\n", ""), "authority.reviewers", "required"),
    "horizon-negative": bad(
        sub("horizon_days = 2000", "horizon_days = -1"), "horizon_days", "greater than 0", "-1"
    ),
    "horizon-nan": bad(
        sub("horizon_days = 2000", "horizon_days = nan"), "horizon_days", "finite", "nan"
    ),
    "horizon-inf": bad(
        sub("horizon_days = 2000", "horizon_days = inf"), "horizon_days", "finite", "inf"
    ),
    "horizon-bool": bad(
        sub("horizon_days = 2000", "horizon_days = true"),
        "horizon_days",
        "should be a number",
        "true",
    ),
    "horizon-missing": bad(sub("horizon_days = 2000\n", ""), "horizon_days", "required"),
    "discipline-unknown": bad(
        sub('discipline = "fifo"', 'discipline = "lifo"'),
        "authority.discipline",
        "'fifo'",
        "'priority'",
        "'lifo'",
    ),
    "authority-not-a-table": bad(  # the typo first: it explains the missing fields
        sub("[authority]\n", "[authorityx]\n"), "authorityx", "unknown key",
        "did you mean 'authority'?"
    ),
    # ---- dates and calendar
    "date-not-a-date": bad(
        sub("start = 2025-01-01", 'start = "not a date"'), "calendar.start", "date", "'not a date'"
    ),
    "date-month-13": bad(
        sub("start = 2025-01-01", "start = 2025-13-01"),
        "",
        "invalid TOML",
        f"line {line_of('start = 2025-01-01')}",
    ),
    "holiday-end-before-start": bad(
        sub(
            'working_days = "all"',
            'working_days = "all"\nholidays = [{ start = 2025-02-10, end = 2025-02-01 }]',
        ),
        "calendar.holidays.0",
        "end 2025-02-01 is before start 2025-02-10",
    ),
    # ---- distributions
    "triangular-low-above-mode": bad(
        review_time('{ dist = "triangular", low = 3.0, mode = 1.0, high = 5.0 }'),
        "authority.review_time.mode",
        "mode 1 is below low 3",
    ),
    "triangular-high-below-mode": bad(
        review_time('{ dist = "triangular", low = 0.0, mode = 4.0, high = 2.0 }'),
        "authority.review_time.high",
        "below mode",
    ),
    "uniform-low-equals-high": bad(
        review_time('{ dist = "uniform", low = 3.0, high = 3.0 }'),
        "authority.review_time.high",
        "above low",
    ),
    "uniform-low-above-high": bad(
        review_time('{ dist = "uniform", low = 4.0, high = 3.0 }'),
        "authority.review_time.high",
        "above low",
    ),
    "exponential-mean-zero": bad(
        review_time('{ dist = "exponential", mean = 0.0 }'),
        "authority.review_time.mean",
        "greater than 0",
    ),
    "exponential-mean-negative": bad(
        review_time('{ dist = "exponential", mean = -2.0 }'),
        "authority.review_time.mean",
        "greater than 0",
        "-2",
    ),
    "lognormal-negative-sigma": bad(
        review_time('{ dist = "lognormal", median = 1.0, sigma = -1.0 }'),
        "authority.review_time.sigma",
        "greater than or equal to 0",
    ),
    "triangular-nan": bad(
        review_time('{ dist = "triangular", low = nan, mode = 1.0, high = 2.0 }'),
        "authority.review_time.low",
        "finite",
    ),
    "empirical-empty": bad(
        review_time('{ dist = "empirical", values = [] }'), "authority.review_time.values", "empty"
    ),
    "unknown-dist": bad(
        review_time('{ dist = "weibull", mean = 1.0 }'),
        "authority.review_time.dist",
        "unknown dist 'weibull'",
        "exponential",
    ),
    "missing-dist": bad(review_time("{ mean = 1.0 }"), "authority.review_time.dist", "missing"),
    "distribution-not-a-table": bad(
        review_time('"exponential"'), "authority.review_time", "table", "'exponential'"
    ),
    "negative-duration": bad(
        review_time('{ dist = "uniform", low = -1.0, high = 3.0 }'),
        "authority.review_time",
        "negative",
    ),
    "negative-quantity": bad(
        sub('{ dist = "constant", value = 1000.0 }', '{ dist = "constant", value = -1.0 }'),
        "authority.background.quantity_kg",
        "negative",
    ),
    # ---- authority
    "background-shares-not-1": bad(
        sub("materials = { ndfeb_magnet = 1.0 }", "materials = { ndfeb_magnet = 0.5 }"),
        "authority.background.materials",
        "sum to 1",
        "0.5",
    ),
    "background-unknown-material": bad(
        sub("materials = { ndfeb_magnet = 1.0 }", "materials = { ndfeb_magnet = 0.5, gold = 0.5 }"),
        "authority.background.materials.gold",
        "unknown material 'gold'",
        "ndfeb_magnet",
    ),
    "background-unknown-destination": bad(
        sub("destinations = { ROW = 1.0 }", "destinations = { ROW = 0.5, EU = 0.5 }"),
        "authority.background.destinations.EU",
        "unknown destination 'EU'",
    ),
    "decision-over-1": bad(
        sub("approve = 1.0", "approve = 0.8\nrefuse = 0.5"), "authority.decision", "exceeds 1"
    ),
    "decision-rule-bad-sector": bad(
        sub("approve = 1.0", 'approve = 1.0\nrules = [{ sector = "food", approve = 0.5 }]'),
        "authority.decision.rules.0.sector",
        "'food'",
        "'defence'",
        "'none'",
    ),
    "info-requests-without-delay": bad(
        sub(
            'discipline = "fifo"',
            'discipline = "fifo"\ninformation_requests = { probability = 0.2 }',
        ),
        "authority.information_requests",
        "response_days is required",
    ),
    # ---- firms and suppliers
    "firm-bom-unknown-material": bad(
        firm("bom = { ndfeb_magnet = 1.5 }", "bom = { gold = 1.5 }"),
        "firms.x.bom.gold",
        "unknown material 'gold'",
    ),
    "firm-bom-empty": bad(firm("bom = { ndfeb_magnet = 1.5 }", "bom = {}"), "firms.x.bom", "empty"),
    "firm-supplier-undefined": bad(
        firm("suppliers = { china = 1.0 }", "suppliers = { japan = 1.0 }"),
        "firms.x.ordering.suppliers.japan",
        "unknown supplier 'japan'",
    ),
    "firm-supplier-shares-not-1": bad(
        firm("suppliers = { china = 1.0 }", "suppliers = { china = 0.7 }"),
        "firms.x.ordering.suppliers",
        "sum to 1",
        "0.7",
    ),
    "firm-unknown-destination": bad(
        firm('destination = "ROW"', 'destination = "EU"'),
        "firms.x.destination",
        "unknown destination 'EU'",
    ),
    "firm-bad-sector": bad(
        firm('sector = "auto"', 'sector = "food"'), "firms.x.sector", "'food'", "'defence'"
    ),
    "firm-missing-ordering": bad(
        firm("ordering = { target_cover_days = 60, suppliers = { china = 1.0 } }\n", ""),
        "firms.x.ordering",
        "required",
    ),
    "supplier-lacks-bom-material": bad(
        firm("bom = { ndfeb_magnet = 1.5 }", "bom = { ndfeb_magnet = 1.5, dy = 0.1 }")
        + "\n[materials.dy]\n",
        "firms.x.ordering.suppliers.china",
        "does not supply 'dy'",
    ),
    "free-supplier-without-capacity": bad(
        firm('kind = "controlled"', 'kind = "free"'),
        "suppliers.china",
        "capacity_kg_per_day is required",
    ),
    # ---- policy
    "policy-unknown-type": bad(
        policy('type = "nosuch"'), "policy.0.type", "unknown type 'nosuch'", "controls_start"
    ),
    "policy-missing-type": bad(policy(""), "policy.0.type", "missing"),
    "policy-unknown-material": bad(
        policy('type = "controls_start"\nmaterials = ["gold"]'),
        "policy.0.materials.0",
        "unknown material 'gold'",
    ),
    "policy-probability-above-1": bad(
        policy('type = "suspend_approvals"\nprobability = 1.5'),
        "policy.0.probability",
        "less than or equal to 1",
        "1.5",
    ),
    "policy-unknown-key": bad(
        policy('type = "suspend_approvals"\nfoo = 1'), "policy.0.foo", "unknown key"
    ),
    "policy-second-event": bad(
        policy('type = "suspend_approvals"')
        + '\n[[policy]]\ntype = "reviewers"\ndate = 2025-03-01\ncount = -1\n',
        "policy.1.count",
        "greater than or equal to 0",
    ),
    "policy-bad-delay": bad(
        policy(
            'type = "resume_approvals"\ndelay_days = { dist = "uniform", low = 2.0, high = 1.0 }'
        ),
        "policy.0.delay_days.high",
        "above low",
    ),
    "policy-stockpile-release-without-stockpile": bad(
        policy('type = "stockpile_release"'), "policy.0.type", "[stockpile]"
    ),
    # ---- extends
    "extends-missing-target": bad('extends = "nope.toml"\n', "extends", "no such file 'nope.toml'"),
    "extends-cycle": Bad(
        {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'},
        "a.toml",
        "extends",
        ("cyclic", "a.toml -> b.toml -> a.toml"),
        entry="a.toml",
    ),
    "extends-self": bad('extends = "c.toml"\n' + BASE, "extends", "cyclic"),
    "extends-non-string": bad("extends = 3\n", "extends", "must be a file name", "3"),
    "extends-array": bad('extends = ["a.toml"]\n', "extends", "must be a file name"),
    "extends-empty-string": bad('extends = ""\n', "extends", "must be a file name"),
    "extends-folder": Bad(
        {"c.toml": 'extends = "sub"\n', "sub/x.toml": BASE},
        "c.toml",
        "extends",
        ("'sub'", "folder"),
    ),
    "extends-base-invalid-toml": Bad(
        {"c.toml": 'extends = "base.toml"\n', "base.toml": "horizon_days = [\n"},
        "base.toml",
        "",
        ("invalid TOML",),
    ),
    # ---- --set
    "set-no-equals": bad_set("authority.reviewers", "authority.reviewers", "expected path=value"),
    "set-empty-path": bad_set("=3", "=3", "empty path"),
    "set-empty-key": bad_set("authority..reviewers=3", "authority..reviewers=3", "empty path"),
    "set-empty-value": bad_set("authority.reviewers=", "authority.reviewers", "empty value"),
    "set-unreadable-value": bad_set(
        "authority.reviewers=[1,", "authority.reviewers", "cannot read value '[1,'"
    ),
    "set-two-lines": bad_set(
        "authority.reviewers=5\nhorizon_days = 1", "authority.reviewers", "cannot read value"
    ),
    "set-unknown-table": bad_set("authority.nosuch.x=1", "authority.nosuch", "unknown key"),
    "set-unknown-leaf": bad_set("authority.nosuchkey=1", "authority.nosuchkey", "unknown key"),
    "set-through-a-value": bad_set("horizon_days.x=1", "horizon_days", "not a table"),
    "set-list-index-out-of-range": bad_set(
        "policy.5.probability=0.5", "policy.5", "no such list item", text=BASE + POLICY
    ),
    "set-list-index-not-a-number": bad_set(
        "policy.first.probability=0.5", "policy.first", "no such list item", text=BASE + POLICY
    ),
    "set-wrong-type": bad_set(
        "authority.reviewers=abc", "authority.reviewers", "whole number", "'abc'"
    ),
    "set-bool-for-number": bad_set("horizon_days=true", "horizon_days", "should be a number"),
    "set-bad-date": bad_set("calendar.start=2025-13-01", "calendar.start", "date", "2025-13-01"),
    "set-bad-distribution": bad_set(
        'authority.review_time={dist="triangular", low=3, mode=1, high=5}',
        "authority.review_time.mode",
        "below low",
    ),
    "set-bad-list-item": bad_set(
        "policy.0.probability=2",
        "policy.0.probability",
        "less than or equal to 1",
        text=BASE + POLICY,
    ),
}


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
def test_bad_input_is_one_clear_line(tmp_path: Path, case: Bad) -> None:
    write(tmp_path, case.files)
    with pytest.raises(ConfigError) as ei:
        load_config(tmp_path / case.entry, case.overrides)
    err = ei.value
    assert "\n" not in err.message and "\r" not in err.message, err.message
    msg = str(err).splitlines()[0]  # one line per error, this one's first
    assert "\r" not in str(err)
    source = "--set" if case.source == "--set" else str(tmp_path / case.source)
    prefix = f"{source}: {case.path}: " if case.path else f"{source}: "
    assert msg.startswith(prefix), f"{msg!r} does not start with {prefix!r}"
    assert err.source == source
    assert err.path == case.path
    rest = msg[len(prefix) :]
    assert rest.strip(), msg
    for w in case.what:
        assert w in rest, f"{w!r} not in {msg!r}"
    assert isinstance(err, ValueError)


def test_error_in_a_base_value_still_names_a_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": sub("reviewers = 5", "reviewers = 0"),
            "child.toml": 'extends = "base.toml"\n',
        },
    )
    with pytest.raises(ConfigError) as ei:
        load_config(tmp_path / "child.toml")
    assert ei.value.path == "authority.reviewers"
    # and the child can repair it
    write(tmp_path, {"child.toml": 'extends = "base.toml"\n[authority]\nreviewers = 2\n'})
    assert load_config(tmp_path / "child.toml").authority.reviewers == 2


def test_every_error_is_reported_a_line_each(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "c.toml": sub("reviewers = 5", "reviewers = 0").replace(
                "horizon_days = 2000", "horizon_days = -1"
            )
        },
    )
    with pytest.raises(ConfigError) as ei:
        load_config(tmp_path / "c.toml")
    lines = str(ei.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["horizon_days", "authority.reviewers"]
    assert [e.path for e in ei.value.more] == ["authority.reviewers"]


@pytest.mark.parametrize(("steps", "words"), [
    ([("2025-09-01", 900.0), ("2025-06-01", 600.0)], "ramp steps must be in date order"),
    ([("2025-06-01", 900.0), ("2025-06-01", 600.0)],
     "two ramp steps start on 2025-06-01"),
])
def test_a_ramp_says_one_capacity_per_date(tmp_path: Path, steps: list, words: str) -> None:
    base = ROOT / "configs" / "baseline.toml"
    ramp = ", ".join(f"{{ start = {d}, kg_per_day = {kg} }}" for d, kg in steps)
    (tmp_path / "c.toml").write_text(f'extends = "{base.as_posix()}"\n'
                                     f"[suppliers.row]\nramp = [{ramp}]\n")
    with pytest.raises(ConfigError, match=words) as info:
        load_config(tmp_path / "c.toml")
    assert info.value.path.startswith("suppliers.row")
