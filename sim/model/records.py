"""Records kept during a replication: shipments (small objects) and applications (columns).

Applications are many (160,000 in a long M/M/5 run), so they are not objects: each is a
row number of an `ApplicationTable`, a set of columns filled in blocks, which the model
reads and writes by row on the event path and which become the columns of the
applications table at the end without a pass over per-file objects. Numeric columns are
typed `array.array`s (8 bytes a cell instead of a pointer to a 24-byte float, and read at
the end as one buffer copy); the others are Python lists. (Per-file objects
would also be tracked by Python's cyclic garbage collector, which then keeps re-scanning
every one of them as the run goes on.) `Application` is the same record as an object,
for submitting hand-made files to an Authority (as the tests do).
"""

from __future__ import annotations

from array import array
from itertools import repeat
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .rng import KeyedUniforms

# Application states (where the file is now).
PRE, QUEUED, REVIEW, RFI, SHELF, CLOSED = range(6)
# Outcomes (a file is withdrawn when its buyer stops waiting for a decision).
UNDECIDED, APPROVED, REFUSED, WITHDRAWN = 0, 1, 2, 3
OUTCOME_NAMES = ("pending", "approved", "refused", "withdrawn")

# Shipment states, for the conservation identity.
AWAITING, TRANSIT, RECEIVED, CANCELLED = range(4)

# The random steps of a shipment (columns of its source's keyed table): production days,
# transit days (a stockpile release: its release days), the customs-hold uniform and hold
# days, and the uniform that decides whether it falls under a transition's exemption.
PRODUCTION, TRANSIT_DAYS, HOLD, HOLD_DAYS, EXEMPT = range(5)
SHIPMENT_STEPS = 5

# The random steps of one licence attempt (columns of its keyed table): pre-acceptance
# days, processing days under a general licence, the decision's uniform, the pending
# clock's uniform and the days to a resubmission after a refusal; then for review round r
# (0 = the first review) three columns from ROUND + 3r: review time, the uniform that
# decides an information request, and the applicant's response days.
PRE_DAYS, GENERAL_DAYS, DECIDE, PENDING, RESUBMIT = range(5)
ROUND = 5


def attempt_steps(max_rounds: int) -> int:
    """Columns of an attempt's keyed table when at most `max_rounds` information requests
    are made (so up to `max_rounds + 1` reviews)."""
    return ROUND + 3 * (max_rounds + 1)

NAN = float("nan")


class Customer(Protocol):
    """A firm as its suppliers see it: who it is (for licences and allocation), its ledger
    of shipments, delivery, and the suppliers that cut its last order."""

    name: str
    sector: str
    destination: str
    end_use: str
    cut: dict[str, bool]

    def add_shipment(self, sh: Shipment) -> None:
        """A new shipment of its order."""

    def move(self, sh: Shipment, state: int) -> None:
        """Its shipment `sh` changes state."""

    def split(self, sh: Shipment, kg: float) -> Shipment:
        """`kg` of its shipment `sh` become a shipment of their own."""

    def deliver(self, sh: Shipment, day: float) -> None:
        """`sh` reaches the firm on `day`."""

    def receive(self, sh: Shipment) -> None:
        """`sh` arrives now."""

    def cancel(self, sh: Shipment) -> None:
        """`sh` was refused for good and is dropped."""

    def redirect(self, sh: Shipment) -> None:
        """`sh` was refused for good and is ordered elsewhere."""


class Shipment:
    """A quantity of one material on its way to one firm (kg)."""

    __slots__ = ("firm", "material", "kg", "supplier", "state", "ready_day", "application",
                 "draws", "key", "source", "covered", "china_usd")

    def __init__(self, firm: Customer, material: str, kg: float, supplier: str, state: int,
                 draws: KeyedUniforms | None = None, key: int = -1, source: str = "") -> None:
        self.firm = firm
        # Its random numbers: row `key` of `draws`, the keyed table of `source` (the
        # supplier, firm, material and part of an order: see SHIPMENT_STEPS); none for
        # the pipeline a firm starts with, which draws nothing.
        self.draws = draws
        self.key = key
        self.source = source
        self.material = material
        self.kg = kg
        self.supplier = supplier
        self.state = state
        self.ready_day = 0.0  # when the exporter could dispatch it, licence aside
        self.application: int | None = None  # row of its current licence application
        self.covered = False  # licensed by an earlier licence of its exporter and firm
        self.china_usd = 0.0  # Chinese-origin value per kg, from a firm tracking it (origin)


class ExportLog:
    """Shipments leaving the controlled exporter that are not licence files of other buyers
    (those are read from the applications at the end): calendar day, destination,
    material and kg, as columns."""

    __slots__ = ("day", "destination", "kg", "material")

    def __init__(self) -> None:
        self.day: list[float] = []
        self.destination: list[str] = []
        self.material: list[str] = []
        self.kg: list[float] = []

    def record(self, day: float, destination: str, material: str, kg: float) -> None:
        self.day.append(day)
        self.destination.append(destination)
        self.material.append(material)
        self.kg.append(kg)


class ApplicationTable:
    """Every licence application of one replication (one row per attempt), as columns.

    Times in calendar days since the start; quantities in kg. Rows are added with `add`;
    the model then updates a row's cells in place. Lists grow in blocks of defaults, so
    a new row writes only the cells that differ from them (for a background file: end
    use, material, destination, kg, class and submission time).
    """

    BLOCK = 4096
    # column: default value of a new row (None: the row number, for `id`).
    COLUMNS: dict[str, Any] = {
        "id": None,
        "firm": None,          # Customer (a firm), or None for other buyers (background)
        "sector": "none",
        "end_use": "civil",
        "material": "",
        "destination": "",
        "kg": 0.0,
        "priority": 0,         # queue class (lower is served first under "priority")
        "attempt": 1,
        "submitted": NAN,
        "shipment": None,      # Shipment, or None for background files
        "applicant": None,     # told of the decision (a DecisionListener), or None
        "accepted": NAN,
        "review_start": NAN,   # start of the first review
        "decided": NAN,
        "outcome": UNDECIDED,
        "state": PRE,
        "wait": 0.0,           # days waiting for a reviewer, summed over rounds
        "review": 0.0,         # calendar days in review, summed over finished rounds
        "rfi_rounds": 0,
        "enqueued_at": 0.0,    # when the file last joined the queue
        "general": False,      # processed under a general licence
        "review_now": 0.0,     # calendar days of the review under way
        "draws": None,         # KeyedUniforms of the attempt's source (see ROUND)
        "key": 0,              # the file's row in `draws`
    }

    # Numeric columns and their `array` type codes (numpy dtypes: TYPES[code]).
    TYPECODES: dict[str, str] = {
        "id": "q", "kg": "d", "priority": "q", "attempt": "q", "submitted": "d",
        "accepted": "d", "review_start": "d", "decided": "d", "outcome": "q", "state": "q",
        "wait": "d", "review": "d", "rfi_rounds": "q", "enqueued_at": "d", "general": "b",
        "review_now": "d", "key": "q",
    }
    TYPES = {"q": "int64", "d": "float64", "b": "bool"}

    __slots__ = ("n", "capacity", *COLUMNS)

    def __init__(self) -> None:
        self.n = 0
        self.capacity = 0
        for name in self.COLUMNS:
            code = self.TYPECODES.get(name)
            setattr(self, name, [] if code is None else array(code))

    def grow(self) -> None:
        """Add a block of rows holding the defaults (columns grow in place)."""
        start, block = self.capacity, self.BLOCK
        for name, default in self.COLUMNS.items():
            col = getattr(self, name)
            if name == "id":
                col.extend(range(start, start + block))
            elif name in self.TYPECODES:
                col.extend(array(col.typecode, (default,)) * block)
            else:
                col.extend(repeat(default, block))
        self.capacity = start + block

    def add(self, material: str, destination: str, kg: float, priority: int,
            submitted: float, draws: KeyedUniforms, key: int, end_use: str = "civil") -> int:
        """A new background-style row (other cells at their defaults) whose random steps
        are row `key` of `draws`; returns its row."""
        i = self.n
        if i == self.capacity:
            self.grow()
        self.n = i + 1
        self.draws[i] = draws
        self.key[i] = key
        if end_use != "civil":
            self.end_use[i] = end_use
        self.material[i] = material
        self.destination[i] = destination
        self.kg[i] = kg
        self.priority[i] = priority
        self.submitted[i] = submitted
        return i

    def is_default(self, name: str) -> bool:
        """Whether every row holds column `name`'s default (one C-level scan; not for
        columns whose default is NaN)."""
        return getattr(self, name).count(self.COLUMNS[name]) == self.capacity

    def numeric(self, name: str) -> Any:
        """The first `n` cells of numeric column `name` as a new numpy array."""
        import numpy as np

        col = getattr(self, name)
        a = np.frombuffer(col, dtype=col.typecode, count=self.n)
        return a.astype(self.TYPES[col.typecode])  # a copy: the column may still grow

    def column(self, name: str) -> list[Any]:
        """The first `n` cells of column `name` (a new list)."""
        return getattr(self, name)[: self.n]


class Application:
    """One export-licence application built by hand: its fields until it is submitted,
    then a view of its row in the Authority's table (so times and outcome can be read
    after the run, as `app.decided`, `app.wait`, ...)."""

    __slots__ = ("_fields", "_table", "_row")

    def __init__(
        self,
        app_id: int,
        firm: Customer | None,
        sector: str,
        end_use: str,
        material: str,
        destination: str,
        quantity_kg: float,
        priority: int,
        attempt: int,
        submitted: float,
        shipment: Shipment | None,
    ) -> None:
        self._fields: dict[str, Any] = {
            **ApplicationTable.COLUMNS, "id": app_id, "firm": firm, "sector": sector,
            "end_use": end_use, "material": material, "destination": destination,
            "kg": quantity_kg, "priority": priority, "attempt": attempt,
            "submitted": submitted, "shipment": shipment,
        }
        self._table: ApplicationTable | None = None
        self._row = -1

    def bind(self, table: ApplicationTable, row: int) -> None:
        """From now on read the fields from `table` row `row`."""
        self._table = table
        self._row = row

    def __getattr__(self, name: str) -> Any:
        if name == "quantity_kg":
            name = "kg"
        if name.startswith("_") or name not in ApplicationTable.COLUMNS:
            raise AttributeError(name)
        table = self._table
        if table is None:
            return self._fields[name]
        value = getattr(table, name)[self._row]
        return bool(value) if name == "general" else value
