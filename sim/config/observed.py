"""What was observed in the world a scenario stands for: the targets of the back-test and
of calibration, kept in a data file that a config names (`observed = "observed/2025.toml"`),
never in code.

Exports are monthly tonnes leaving the controlled exporter, per series (all destinations,
or some); stoppages are the dates firms were reported to stop; downtimes are the days a
firm was reported below plan within a window; approvals are shares of a destination's
licence applications approved by a date. Months are "YYYY-MM".
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .base import Date, Name, PosFloat, Probability, Strict
from .checks import Misses, Names

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class ObservedSeries(Strict):
    """One monthly export series, compared as a ratio to its own level before the shock."""

    name: Name = Field(description="Series name (e.g. `total`, `US`).")
    destinations: list[str] | None = Field(
        default=None, description="Destinations summed (default: all)."
    )
    reference_tonnes: PosFloat = Field(
        description="Observed tonnes over `reference_days` before the shock: the level, per "
        "day, that observed and simulated months alike are divided by (so a model whose "
        "level is off shows it)."
    )
    reference_days: PosFloat = Field(description="Days the reference tonnes cover.")

    @property
    def reference_t_per_day(self) -> float:
        return self.reference_tonnes / self.reference_days
    months: dict[Month, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        description="Observed tonnes per month, by month (\"YYYY-MM\")."
    )


class ObservedExports(Strict):
    """Monthly exports of the controlled exporter."""

    series: list[ObservedSeries] = Field(min_length=1, description="The observed series.")


class ObservedStoppage(Strict):
    """A firm's first reported stoppage, compared with the firm's first simulated stock-out."""

    firm: str = Field(description="The firm of the config that stands for the case.")
    event: str = Field(description="What was reported.")
    date: Date = Field(description="Reported date of the stoppage.")


class DowntimeRange(Strict):
    """A reported number of days, as a range (`low` = `high` for a point)."""

    low: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        description="Fewest days reported.")
    high: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        description="Most days reported.")

    @model_validator(mode="after")
    def _ordered(self) -> DowntimeRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) is below low ({self.low:g})")
        return self

    @property
    def mid(self) -> float:
        return 0.5 * (self.low + self.high)


class ObservedDowntime(Strict):
    """A firm's reported days below plan from `since` to the end of `until`, compared with
    the simulated firm's days below plan (stopped or substituting) in the same window."""

    firm: str = Field(description="The firm of the config that stands for the case.")
    event: str = Field(description="What was reported.")
    days: DowntimeRange = Field(description="Days below plan reported, `{ low, high }`.")
    since: Date | None = Field(
        default=None, description="Start of the window (default: the run's start).")
    until: Date = Field(description="Last day of the window (counted whole).")

    @model_validator(mode="after")
    def _window(self) -> ObservedDowntime:
        if self.since is not None and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        if self.since is not None and self.days.low > (n := (self.until - self.since).days
                                                       + 1):
            raise ValueError(f"days.low: {self.days.low:g} days is more than the window "
                             f"from {self.since} to {self.until} holds ({n})")
        return self


class ObservedPrice(Strict):
    """A material's reported peak price over a window, as a multiple of its price before
    the controls, compared with the peak of its simulated index (`[prices]`, sampled every
    `output.sample_every_days`) in the same window."""

    material: str = Field(description="The material of the config whose index stands for it.")
    event: str = Field(description="What was reported.")
    ratio: DowntimeRange = Field(description="Peak over the price before the controls, "
                                 "`{ low, high }` (FACTS §5: Dy oxide 250-310 -> 700-1,000 "
                                 "USD/kg is about { low = 2.3, high = 4.0 }).")
    since: Date | None = Field(
        default=None, description="Start of the window (default: the run's start).")
    until: Date = Field(description="Last day of the window (counted whole).")

    @model_validator(mode="after")
    def _window(self) -> ObservedPrice:
        if self.since is not None and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        return self


class ObservedApproval(Strict):
    """A share of one destination's applications approved by a date."""

    destination: str = Field(description="Destination whose applications are counted.")
    date: Date = Field(description="Applications approved by the end of this day.")
    share: Probability = Field(description="Observed share approved.")
    label: str = Field(default="", description="What was reported, and by whom.")


class ObservedData(Strict):
    """Observations of the world a scenario stands for (`observed = "FILE"` in a config)."""

    name: str = Field(default="", description="What the observations are of (shown in reports).")
    source: str = Field(default="", description="Where the figures come from.")
    exports: ObservedExports | None = Field(
        default=None, description="Monthly exports of the controlled exporter.")
    stoppages: list[ObservedStoppage] = Field(
        default=[], description="Firms' first reported stoppages.")
    downtimes: list[ObservedDowntime] = Field(
        default=[], description="Firms' reported days below plan within a window.")
    approvals: list[ObservedApproval] = Field(
        default=[], description="Shares of applications approved by a date.")
    prices: list[ObservedPrice] = Field(
        default=[], description="Materials' reported peak prices over a window, as "
        "multiples of the price before the controls: compared with the price indices of "
        "`[prices]` (without that table they are left out).")
    first_wave_days: PosFloat = Field(
        default=28.0, description="Approval shares are also reported for the applications "
        "filed in this many days after the first control (when the first wave was filed)."
    )
    fit_months: list[Month] = Field(
        default=[], description="Months used for tuning and calibration (in sample)."
    )
    held_out_months: list[Month] = Field(
        default=[], description="Months never used for tuning (out of sample)."
    )

    @model_validator(mode="after")
    def _windows(self) -> ObservedData:
        both = set(self.fit_months) & set(self.held_out_months)
        if both:
            raise ValueError(f"months both fitted and held out: {', '.join(sorted(both))}")
        return self

    @property
    def months(self) -> list[str]:
        """Fit and held-out months, in order."""
        return sorted(set(self.fit_months) | set(self.held_out_months))

    def check_names(self, names: Names, misses: Misses) -> None:
        """The firms and destinations observed are the config's; each firm's first stoppage
        and each export series' name is given once."""
        _one_per_firm(self.stoppages, "stoppages", "a stoppage", "a firm's first stoppage "
                      "is one date", names, misses)
        _one_per_firm(self.downtimes, "downtimes", "a downtime", "a firm's downtime is "
                      "counted over one window", names, misses)
        for i, ap in enumerate(self.approvals):
            misses.need("destination", names.destinations, ap.destination,
                        f"observed.approvals.{i}.destination")
        first: dict[str, int] = {}
        for i, pr in enumerate(self.prices):
            misses.need("material", names.materials, pr.material,
                        f"observed.prices.{i}.material")
            if pr.material in first:
                misses.fail(f"observed.prices.{i}.material", f"{pr.material!r} is already "
                            f"observed.prices.{first[pr.material]}: a material's peak is "
                            "compared over one window")
            first.setdefault(pr.material, i)
        series = self.exports.series if self.exports else []
        seen: dict[str, int] = {}
        for i, se in enumerate(series):
            for k, d in enumerate(se.destinations or []):
                misses.need("destination", names.destinations, d,
                            f"observed.exports.series.{i}.destinations.{k}")
            if se.name in seen:
                misses.fail(f"observed.exports.series.{i}.name", f"{se.name!r} is already "
                            f"observed.exports.series.{seen[se.name]}: each series needs "
                            "its own name")
            seen.setdefault(se.name, i)


def _one_per_firm(entries: list, key: str, what: str, why: str, names: Names,
                  misses: Misses) -> None:
    """Each entry of `observed.KEY` names a firm of the config, and no firm twice."""
    seen: dict[str, int] = {}
    for i, e in enumerate(entries):
        misses.need("firm", names.firms, e.firm, f"observed.{key}.{i}.firm")
        if e.firm in seen:
            misses.fail(f"observed.{key}.{i}.firm", f"{e.firm!r} already has {what} "
                        f"(observed.{key}.{seen[e.firm]}): {why}")
        seen.setdefault(e.firm, i)
