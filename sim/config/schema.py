"""The config schema, the public face of the scenario's typed models: `Config` and the
models of its parts, gathered from the modules that define them by subject (`world`,
`responses`, `sourcing`, `policy`, `study`, `scenario`, with the cross-reference checks in
`checks`).

Code outside `sim.config` imports the models from here; modules inside it import from
the subject modules, so that this face sits above every layer of the package.
"""

from __future__ import annotations

from .base import MIN_PERIOD_DAYS, Period
from .checks import MAX_REPORTED, SECTORS, Misses, Names, PathErrors, unknown_name
from .costs import COST_METRICS, CostsConfig
from .optimize import Constraint, Objective, OptimizeConfig, OptimizeLever, Output
from .policy import (
    AddCapacity,
    CloseRoute,
    ControlsLift,
    ControlsStart,
    CoversMaterials,
    ForeignContent,
    GeneralLicence,
    PolicyEvent,
    PolicyEventBase,
    ResumeApprovals,
    SetDecision,
    SetReviewers,
    SetReviewTime,
    StockpileRelease,
    SuspendApprovals,
)
from .prices import PricesConfig
from .responses import DeferredDemand, LicenceCover, Rationing, RationLine
from .scenario import (
    Config,
)
from .sourcing import FrontRunning, Resourcing, Route
from .study import (
    CalibrationConfig,
    OutputConfig,
    RunsConfig,
    SweepConfig,
    SweepDiscovery,
    SweepParameter,
    SweepValue,
    UncertainParameter,
)
from .world import (
    DEFAULT_SHIPPING,
    Allocation,
    AuthorityConfig,
    BackgroundConfig,
    CalendarConfig,
    CapacityStep,
    CustomsHold,
    DecisionConfig,
    DecisionRule,
    DestinationConfig,
    FirmConfig,
    Holiday,
    InformationRequests,
    MaterialConfig,
    OrderBookConfig,
    OrderingConfig,
    RefusalConfig,
    ShippingConfig,
    StockpileConfig,
    Substitution,
    SupplierConfig,
)

__all__ = [
    "COST_METRICS",
    "PricesConfig",
    "CostsConfig",
    "AddCapacity",
    "Allocation",
    "AuthorityConfig",
    "BackgroundConfig",
    "CalendarConfig",
    "CalibrationConfig",
    "CapacityStep",
    "CloseRoute",
    "Config",
    "DeferredDemand",
    "Constraint",
    "ControlsLift",
    "ControlsStart",
    "CoversMaterials",
    "CustomsHold",
    "DEFAULT_SHIPPING",
    "DecisionConfig",
    "DecisionRule",
    "DestinationConfig",
    "FirmConfig",
    "ForeignContent",
    "FrontRunning",
    "GeneralLicence",
    "Holiday",
    "InformationRequests",
    "LicenceCover",
    "MAX_REPORTED",
    "MIN_PERIOD_DAYS",
    "MaterialConfig",
    "Misses",
    "Names",
    "Objective",
    "OptimizeConfig",
    "OptimizeLever",
    "OrderBookConfig",
    "OrderingConfig",
    "Output",
    "OutputConfig",
    "PathErrors",
    "Period",
    "PolicyEvent",
    "PolicyEventBase",
    "RationLine",
    "Rationing",
    "RefusalConfig",
    "Resourcing",
    "ResumeApprovals",
    "Route",
    "RunsConfig",
    "SECTORS",
    "SetDecision",
    "SetReviewTime",
    "SetReviewers",
    "ShippingConfig",
    "StockpileConfig",
    "StockpileRelease",
    "Substitution",
    "SupplierConfig",
    "SuspendApprovals",
    "SweepConfig",
    "SweepDiscovery",
    "SweepParameter",
    "SweepValue",
    "UncertainParameter",
    "unknown_name",
]
