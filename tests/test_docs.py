"""The config reference in docs/ is what the schema generates (it cannot drift)."""

import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config.reference import render
from sim.config.schema import Config, PolicyEventBase

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


# --------------------------------------------------------------------------- anchors


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, HTML and punctuation dropped, spaces to -."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    ids = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    for line in markdown.splitlines():
        if line.startswith("#"):
            ids.add(_slug(line.lstrip("#")))
    return ids


def test_every_anchor_link_in_the_reference_resolves() -> None:
    text = (ROOT / "docs" / "config-reference.md").read_text()
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(links) > 40  # the type column links every nested table
    missing = sorted(set(links) - _anchors(text))
    assert not missing, f"dead links in docs/config-reference.md: {missing}"


def test_readme_links_into_the_reference_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"docs/config-reference\.md#([^)\s]+)\)", readme)
    assert links, "the README links into the reference"
    missing = sorted(set(links) - _anchors((ROOT / "docs" / "config-reference.md").read_text()))
    assert not missing, f"README links to missing anchors of the reference: {missing}"


def _models(tp: Any, seen: set[type[BaseModel]]) -> None:
    """Every pydantic model reachable from the type `tp` (fields, lists, tables, unions)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in seen:
            return
        seen.add(tp)
        for f in tp.model_fields.values():
            _models(f.annotation, seen)
        return
    for arg in typing.get_args(tp):
        _models(arg, seen)


def test_every_model_of_the_schema_has_a_section() -> None:
    seen: set[type[BaseModel]] = set()
    _models(Config, seen)
    # the probe's missing sections, and the prior and policy unions, are among them
    names = {m.__name__ for m in seen}
    assert {"ShippingConfig", "ForeignContent", "UniformPrior", "PosteriorPrior",
            "Lognormal", "ObservedSeries"} <= names
    text = (ROOT / "docs" / "config-reference.md").read_text()
    ids = set(re.findall(r'<a id="([^"]+)"></a>', text))
    missing = sorted(m.__name__ for m in seen if m.__name__.lower() not in ids)
    assert not missing, f"models without a section in the reference: {missing}"
    for m in seen:  # and each section lists every field the model takes
        section = text.split(f'<a id="{m.__name__.lower()}"></a>', 1)[1].split("\n### ", 1)[0]
        own = m.model_fields.keys() - (
            PolicyEventBase.model_fields.keys() if m is not PolicyEventBase
            and issubclass(m, PolicyEventBase) else set())
        for name in own:
            assert f"| `{name}` |" in section, f"{m.__name__}.{name} is not in its section"
