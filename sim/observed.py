"""Observed 2025 figures from shared/FACTS.md, for overlays and back-tests.

China's rare-earth magnet exports by month, tonnes (FACTS §2, customs data via
econotimes.com, kitco.com, telegraphindia.com, astroawani.com). Months FACTS does not
give are absent. ⚠ marks figures FACTS flags as uncertain.
"""

from __future__ import annotations

# month -> tonnes, all destinations
MAGNET_EXPORTS_T: dict[str, float] = {
    "2025-01": 6357.0,
    "2025-04": 2630.0,  # ⚠ approximate ("about halved")
    "2025-05": 1238.0,
    "2025-06": 3188.0,
    "2025-07": 5577.0,
    "2025-08": 6146.0,
    "2025-09": 5774.0,
    "2025-10": 5473.0,  # ⚠
    "2025-11": 6150.0,
    "2025-12": 5952.0,
}

# month -> tonnes to the United States
MAGNET_EXPORTS_US_T: dict[str, float] = {
    "2025-05": 46.0,
    "2025-06": 353.0,
    "2025-07": 619.0,
    "2025-08": 590.0,
    "2025-09": 420.0,
    "2025-10": 656.0,
    "2025-11": 582.0,
    "2025-12": 564.0,
}
