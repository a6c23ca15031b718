"""Sharing short supply between open orders: proportional, first come first served, or by
priority level (proportional within a level)."""

from __future__ import annotations

from collections.abc import Sequence


def allocate(available: float, asks: Sequence[float], rule: str,
             levels: Sequence[int] | None = None) -> list[float]:
    """What each open order gets from `available`, its asks in the order they came.

    Everything is filled when there is enough. Otherwise `proportional` gives every order
    the same share of its ask (available / total asked); `fifo` fills them oldest first;
    `priority` fills whole levels in order (lower first) and shares the level where supply
    runs out in proportion to the asks. Never more than asked, never more than available
    in all."""
    total = sum(asks)
    if total <= available:
        return list(asks)
    if available <= 0.0:
        return [0.0] * len(asks)
    if rule == "proportional":
        share = available / total
        return [a * share for a in asks]
    if rule == "fifo":
        out, left = [], available
        for a in asks:
            x = min(a, left)
            out.append(x)
            left -= x
        return out
    if rule == "priority":
        assert levels is not None and len(levels) == len(asks)
        out = [0.0] * len(asks)
        left = available
        for level in sorted(set(levels)):
            idx = [i for i, v in enumerate(levels) if v == level]
            need = sum(asks[i] for i in idx)
            share = 1.0 if need <= left else left / need
            for i in idx:
                out[i] = asks[i] * share
            left -= need * share
            if left <= 0.0:
                break
        return out
    raise ValueError(f"unknown allocation {rule!r}")


def levels_of(priority: Sequence[str], names: Sequence[str],
              sectors: Sequence[str]) -> list[int]:
    """Each customer's priority level: the position of its firm name in `priority`, else
    of its sector, else after every listed one."""
    at = {p: i for i, p in enumerate(priority)}
    last = len(priority)
    return [at.get(n, at.get(s, last)) for n, s in zip(names, sectors, strict=True)]
