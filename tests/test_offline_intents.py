"""How the offline brain reads goals (brains/offline/intents.py, specs.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.brains.offline.intents import (
    detect_intents,
    mentioned_columns,
    mentioned_values,
)
from agentforge_jupyter.brains.offline.profile import Profile
from agentforge_jupyter.brains.offline.specs import goal_intents, plan_specs, spec_from_text

PROFILE = Profile(
    rows=100,
    columns=[
        {"name": "order_id", "kind": "text", "unique": 100},
        {"name": "date", "kind": "datetime", "min": "2024-07-01", "max": "2024-09-30"},
        {
            "name": "region",
            "kind": "categorical",
            "unique": 4,
            "top": [["North", 40], ["West", 30]],
        },
        {"name": "customer_segment", "kind": "categorical", "unique": 3, "examples": ["Consumer"]},
        {"name": "units", "kind": "numeric", "dtype": "object", "mixed_types": True},
        {"name": "unit_price", "kind": "numeric", "dtype": "float64"},
        {"name": "revenue", "kind": "numeric", "dtype": "float64"},
    ],
)


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("revenue by region", ["revenue", "region"]),
        ("average unit price per segment", ["unit_price", "customer_segment"]),
        ("units sold by customer segment", ["units", "customer_segment"]),
        ("reveune by regoin", ["revenue", "region"]),  # near-miss spellings
        ("sales over time", ["revenue", "date"]),  # synonyms
        ("nothing relevant here", []),
    ],
)
def test_mentioned_columns(text: str, columns: list[str]) -> None:
    assert mentioned_columns(text, PROFILE) == columns


def test_mentioned_values_in_order_of_mention() -> None:
    assert mentioned_values("West versus North", PROFILE) == {"region": ["West", "North"]}


@pytest.mark.parametrize(
    ("goal", "finance", "intents"),
    [
        ("overview please", False, ["overview"]),
        ("revenue by month", False, ["trend"]),
        ("7-day moving average of revenue", False, []),
        ("7-day moving average of revenue", True, ["moving_average"]),
        ("how volatile is revenue over time", True, ["trend", "volatility"]),
        ("any outliers or missing values?", False, ["quality", "outliers"]),
        ("top 5 regions by revenue", False, ["aggregate", "topn"]),
    ],
)
def test_detect_intents(goal: str, finance: bool, intents: list[str]) -> None:
    assert detect_intents(goal, finance=finance) == intents


def test_by_means_group_by_only_before_a_group_column() -> None:
    assert goal_intents("top 5 orders by revenue", PROFILE) == ["topn"]
    assert goal_intents("revenue by region", PROFILE) == ["aggregate"]


def test_spec_parameters() -> None:
    top = spec_from_text("topn", "bottom 3 regions by revenue", PROFILE)
    assert (top.top_n, top.ascending, top.group, top.value) == (3, True, "region", "revenue")
    assert spec_from_text("trend", "daily revenue", PROFILE).freq == "D"
    assert spec_from_text("trend", "revenue", PROFILE).freq == "W"  # 91 days of data
    assert spec_from_text("returns", "revenue", PROFILE).freq == "D"
    assert spec_from_text("aggregate", "unit_price by region", PROFILE).agg == "mean"
    assert spec_from_text("aggregate", "count of orders by region", PROFILE).agg == "count"
    assert spec_from_text("trend", "revenue over time", PROFILE).group is None


def test_redundant_aggregate_is_dropped_for_a_ranking() -> None:
    specs, notes = plan_specs("top 5 regions by revenue", PROFILE)
    assert [s.intent for s in specs] == ["topn"]
    assert notes == []


def test_generalist_notes_finance_requests() -> None:
    _specs, notes = plan_specs("drawdown of revenue", PROFILE)
    assert notes == [
        "The goal asks for drawdown from the running peak, which this generalist does not "
        "compute; the offline-finance specialist does."
    ]
