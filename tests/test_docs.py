"""The config reference in docs/ is what the schema generates (it cannot drift)."""

from pathlib import Path

from sim.config.reference import render

ROOT = Path(__file__).resolve().parents[1]


def test_config_reference_is_current() -> None:
    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert committed == render(), (
        "regenerate: python -m sim.config.reference > docs/config-reference.md")


def test_reference_lists_every_schema_section() -> None:
    text = render()
    for key in ("`authority.background`", "`firms.NAME.ordering`", "`horizon_days`",
                "`review_time`", 'type = "general_licence"', "## Distributions",
                "`observed.stoppages[]`"):
        assert key in text
