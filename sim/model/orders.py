"""An order book: the open orders a supplier with finite supply serves, and the dispatches
that share what it has between them by its allocation rule.

Free suppliers (capacity in kg/day) and firms that make parts for other firms (finished
goods) both keep one. While orders are open the book dispatches every
`dispatch_every_days`: every order in full when there is enough, otherwise each gets its
share (`sim.model.allocation`) and the rest stays on back-order. A customer whose order was
cut is told (`records.Customer.cut`), for shortage gaming (`ordering.cut_inflation`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from ..config.schema import OrderBookConfig
from .allocation import allocate, levels_of
from .clock import now, post_call

if TYPE_CHECKING:
    from .records import Shipment

EPS = 1e-9


class OrderBook:
    """The open orders of one supplier, oldest first, and its dispatch cycle. A subclass
    says what it has to give (`available`), takes what it gave (`taken`) and sends a
    shipment on its way (`send`)."""

    name: str  # the supplier's, for its customers' `cut` flags

    def __init__(self, env: simpy.Environment, cfg: OrderBookConfig) -> None:
        self.env = env
        self.allocation = cfg.allocation
        self.priority = list(cfg.priority)
        self.every = cfg.dispatch_every_days
        self.book: list[Shipment] = []
        self._open: dict[tuple[int, str], Shipment] = {}  # each customer's open order
        self._scheduled = False

    def available(self) -> float:
        raise NotImplementedError

    def taken(self, amount: float) -> None:
        raise NotImplementedError

    def send(self, sh: Shipment, now: float) -> None:
        raise NotImplementedError

    def idle(self) -> None:
        """Called when the last open order was filled."""

    def open_order(self, sh: Shipment) -> None:
        """Put `sh` (in its firm's ledger, awaiting) on the book; dispatch now if idle. A
        customer with an order of the material still open has this one added to it (its
        back-order keeps its place in the queue), so the book holds at most one order per
        customer and material."""
        key = (id(sh.firm), sh.material)
        open_ = self._open.get(key)
        if open_ is not None:
            open_.kg += sh.kg  # both awaiting: the firm's ledger is unchanged
            sh.kg = 0.0
            return
        self._open[key] = sh
        self.book.append(sh)
        if not self._scheduled:
            self._scheduled = True
            post_call(self.env, 0.0, self._dispatch, None)

    def _dispatch(self, _arg: object) -> None:
        book = self.book
        have = self.available()
        levels = (levels_of(self.priority, [sh.firm.name for sh in book],
                            [sh.firm.sector for sh in book])
                  if self.allocation == "priority" else None)
        give = allocate(have, [sh.kg for sh in book], self.allocation, levels)
        t = now(self.env)
        still = []
        total = 0.0
        # One shipment per customer, material and dispatch, however many orders it fills
        # (each order's share moves into it: the firm's ledger is unchanged until it
        # leaves), so a long back-order does not become a shipment per order per day.
        pieces: dict[tuple[int, str], Shipment] = {}
        for sh, x in zip(book, give, strict=True):
            full = x >= sh.kg - EPS * max(1.0, sh.kg)
            if not full:
                sh.firm.cut[self.name] = True
                still.append(sh)
                if x <= EPS * max(1.0, sh.kg):
                    continue
            x = sh.kg if full else x
            total += x
            key = (id(sh.firm), sh.material)
            piece = pieces.get(key)
            if piece is None:
                pieces[key] = sh if full else sh.firm.split(sh, x)
            else:
                piece.kg += x
                sh.kg -= x
        for piece in pieces.values():
            self.send(piece, t)
        self.taken(min(total, have))
        self.book = still
        self._open = {(id(sh.firm), sh.material): sh for sh in still}
        if still:
            post_call(self.env, self.every, self._dispatch, None)
        else:
            self._scheduled = False
            self.idle()
