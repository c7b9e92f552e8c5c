"""The offline brains: deterministic, rule-based, and honest about it.

``OfflineBrain`` ("offline") is the embedded default, so that everything runs with no key and
no network. ``OfflineFinanceBrain`` ("offline-finance") is a specialist that also knows returns,
moving averages, volatility and drawdown, so that swapping brains visibly changes a plan.

The package, by concern:

* ``intents``: which analyses a text asks for and which columns it names;
  ``profile``: the dataset profile indexed for lookups; ``specs``: the planned analyses.
* ``codegen``: the header (every value from data, a user or a model enters the code only as a
  ``repr`` literal, or in a comment through ``sanitize.comment``) and the repair levels;
  ``templates_tables`` and ``templates_time``: the code of each analysis.
* ``insights``: restates only ``FACT: label = value`` lines the executed code printed.
* ``tools``: reusable functions proposed after a successful step.
* ``brain``: the two brain classes that answer requests from these pieces.
"""

from __future__ import annotations

from .brain import FINANCE_MODEL, OFFLINE_MODEL, OfflineBrain, OfflineFinanceBrain
from .codegen import DEFENSIVE_MARKER, FALLBACK_MARKER
from .insights import insights_from_observations, parse_facts

__all__ = [
    "DEFENSIVE_MARKER",
    "FALLBACK_MARKER",
    "FINANCE_MODEL",
    "OFFLINE_MODEL",
    "OfflineBrain",
    "OfflineFinanceBrain",
    "insights_from_observations",
    "parse_facts",
]
