"""Cross-reference checks: the names a config defines (`Names`), a collector of the uses
that name nothing (`Misses`, every miss reported at once), and their wording.

Each model checks the names it uses itself (its `check_names` method); the root `Config`
builds the index and asks its parts in turn."""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .base import PathError, Sector

MAX_REPORTED = 20
"""Most unknown names reported at once (the rest are counted)."""

SECTORS: tuple[str, ...] = typing.get_args(Sector)


def unknown_name(kind: str, name: str, known: Iterable[str], suggest: Iterable[str] | None = None,
                 also: str = "") -> str:
    """'unknown KIND NAME; did you mean X? (known: ...)': the nearest of `suggest` (default
    `known`), and the known names (the first dozen of many), then `also`."""
    names = sorted(known)
    close = difflib.get_close_matches(str(name), sorted(suggest) if suggest is not None
                                      else names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    return f"unknown {kind} {name!r}{hint} (known: {shown or 'none'}{also})"


def check_sum(shares: dict[str, float], path: str) -> None:
    """PathError at `path` unless `shares` sum to 1."""
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        listed = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        raise PathError(path, f"must sum to 1 (they sum to {total:g}: {listed})")


def last_day(start: date, horizon_days: float) -> str:
    """The last date simulated (the day holding t = horizon - epsilon), as ISO text."""
    try:
        return (start + timedelta(days=math.ceil(horizon_days) - 1)).isoformat()
    except OverflowError:
        return "beyond 9999-12-31"


class PathErrors(PathError):
    """Several cross-reference errors found at once; the first is this error's own."""

    def __init__(self, errors: list[PathError], unreported: int = 0) -> None:
        super().__init__(errors[0].path, errors[0].message)
        self.errors = errors
        self.unreported = unreported


RARE_EARTHS = frozenset({"Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
                         "Dy", "Ho", "Er", "Tm", "Yb", "Lu"})
"""The seventeen rare-earth elements' symbols: a control may name any of them (and any
element a material declares), whether or not a modelled material contains it."""


@dataclass(frozen=True)
class Names:
    """What a config defines, by kind, and the facts about it that its parts' checks need."""

    materials: frozenset[str]
    destinations: frozenset[str]
    suppliers: frozenset[str]
    firms: frozenset[str]
    makers: tuple[str, ...]
    """Firms that make an `output` for other firms, sorted."""
    customers: Mapping[str, frozenset[str]]
    """Supplier or firm -> the firms ordering from it."""
    free_suppliers: frozenset[str]
    routes: frozenset[str]
    """Suppliers with a [route] table."""
    uncertain: frozenset[str]
    has_stockpile: bool
    information_response_days: bool
    """Whether `authority.information_requests.response_days` is given."""
    has_costs: bool = False
    """Whether the config has a `[costs]` table."""
    has_prices: bool = False
    """Whether the config has a `[prices]` table."""
    elements: frozenset[str] = frozenset()
    """The rare earths, and the elements some material declares (`materials.<m>.elements`)."""


class Misses:
    """The uses of names a config does not define, collected (the first `MAX_REPORTED`,
    the rest counted)."""

    def __init__(self) -> None:
        self.errors: list[PathError] = []
        self.unreported = 0

    def fail(self, path: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(PathError(path, message))
        else:
            self.unreported += 1

    def need(self, kind: str, known: frozenset[str], name: str | None, path: str) -> bool:
        """Whether `name` (None: not given) is in `known`; records the miss if not."""
        if name is None or name in known:
            return True
        if len(self.errors) < MAX_REPORTED:
            self.fail(path, unknown_name(kind, name, known))
        else:
            self.unreported += 1
        return False

    def unique(self, names: Iterable[str], path: str, what: str = "") -> None:
        """Each of `names` (at `path`.k) appears once."""
        seen: dict[str, int] = {}
        for k, n in enumerate(names):
            if n in seen:
                self.fail(f"{path}.{k}", f"{n!r} is listed twice{what} (also {path}.{seen[n]})")
            seen.setdefault(n, k)

    def priority(self, prio: list[str], path: str, who: str, names: Names) -> None:
        """A priority list names sectors or firms, each once. (A firm that does not order
        from `who` is allowed: a list may be shared by configs whose firms differ.)"""
        self.unique(prio, path)
        for k, p in enumerate(prio):
            if p not in SECTORS and p not in names.firms:
                mine = sorted(names.customers.get(who, frozenset()))
                shown = ", ".join(mine[:12]) + (", ..." if len(mine) > 12 else "")
                msg = unknown_name("sector or firm", p, SECTORS, [*SECTORS, *names.firms],
                                   also=f"; firms that order from {who}: {shown or 'none'}")
                self.fail(f"{path}.{k}", msg.replace("(known: ", "(sectors: ", 1))

    def raise_any(self) -> None:
        """PathErrors with every miss, if there is one."""
        if self.errors:
            raise PathErrors(self.errors, self.unreported)
