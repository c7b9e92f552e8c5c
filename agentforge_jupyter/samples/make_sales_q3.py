"""Generate the packaged sample dataset ``sales_q3.jsonl`` (deterministic, seeded).

    python -m agentforge_jupyter.samples.make_sales_q3          # rewrite sales_q3.jsonl
    python -m agentforge_jupyter.samples.make_sales_q3 --check  # exit 1 if it would change

Q3 2024 (2024-07-01 .. 2024-09-30) orders with signal worth finding:

* West grows strongly through the quarter, driven by the Smart Watch (a ramp of extra orders);
* Retail dips at weekends (Online does not);
* a one-week Wireless Earbuds promotion online (2024-08-12 .. 2024-08-18, 20% off);
* two price outliers (a unit price keyed in 10x too high; revenue follows it);
* about 1% nulls in ``region``, ``units`` and ``unit_price`` (revenue is still recorded);
* exactly one mis-typed value: ``units`` is the string ``"twelve"`` in one row.

Only Python's ``random.Random`` is used (its sequences are stable across Python versions), so
the output is byte-identical everywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20240930
START = date(2024, 7, 1)
END = date(2024, 9, 30)
OUTPUT = Path(__file__).with_name("sales_q3.jsonl")
COLUMNS = (
    "order_id",
    "date",
    "region",
    "product",
    "category",
    "channel",
    "units",
    "unit_price",
    "revenue",
    "customer_segment",
)

# product -> (category, list price, popularity weight)
PRODUCTS: dict[str, tuple[str, float, float]] = {
    "Smart Watch": ("Electronics", 249.00, 1.0),
    "Wireless Earbuds": ("Electronics", 129.00, 1.6),
    "4K Monitor": ("Electronics", 399.00, 0.8),
    "Air Purifier": ("Home", 189.00, 0.9),
    "Espresso Machine": ("Home", 329.00, 0.7),
    "Ergonomic Chair": ("Office", 279.00, 0.8),
    "Standing Desk": ("Office", 449.00, 0.6),
}
# region -> base orders per day (all channels)
REGIONS: dict[str, float] = {"North": 7.0, "South": 6.0, "East": 8.0, "West": 5.0, "Central": 4.0}
CHANNEL_SHARE = {"Online": 0.45, "Retail": 0.35, "Partner": 0.20}
CHANNEL_PRICE = {"Online": 0.95, "Retail": 1.00, "Partner": 0.88}
SEGMENTS = {
    "Online": {"Consumer": 0.70, "Small Business": 0.25, "Enterprise": 0.05},
    "Retail": {"Consumer": 0.80, "Small Business": 0.18, "Enterprise": 0.02},
    "Partner": {"Consumer": 0.10, "Small Business": 0.45, "Enterprise": 0.45},
}
UNITS = {"Consumer": (1, 3), "Small Business": (2, 6), "Enterprise": (4, 15)}
PROMO = (date(2024, 8, 12), date(2024, 8, 18), "Wireless Earbuds", "Online", 0.80)
WEST_RAMP_PER_DAY = (0.3, 8.0)  # extra West Smart Watch orders per day, start -> end of quarter
NULL_RATE = 0.01


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; the rates here are small.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _day_factor(channel: str, day: date) -> float:
    weekend = day.weekday() >= 5
    if channel == "Retail":
        return 0.45 if weekend else 1.15
    if channel == "Partner":
        return 0.3 if weekend else 1.25
    return 1.1 if weekend else 1.0


def _order(rng: random.Random, day: date, region: str, channel: str, product: str) -> dict:
    segment = _pick(rng, SEGMENTS[channel])
    low, high = UNITS[segment]
    units = rng.randint(low, high)
    category, list_price, _ = PRODUCTS[product]
    price = list_price * CHANNEL_PRICE[channel] * rng.uniform(0.97, 1.03)
    first, last, promo_product, promo_channel, promo_factor = PROMO
    if first <= day <= last and product == promo_product and channel == promo_channel:
        price *= promo_factor
    return {
        "date": day.isoformat(),
        "region": region,
        "product": product,
        "category": category,
        "channel": channel,
        "units": units,
        "unit_price": round(price, 2),
        "customer_segment": segment,
    }


def generate(seed: int = SEED) -> list[dict]:
    """All rows, in column order, sorted by date."""
    rng = random.Random(seed)
    popularity = {name: weight for name, (_, _, weight) in PRODUCTS.items()}
    days = (END - START).days + 1
    orders: list[dict] = []
    for offset in range(days):
        day = START + timedelta(days=offset)
        for region, base in REGIONS.items():
            for channel, share in CHANNEL_SHARE.items():
                for _ in range(_poisson(rng, base * share * _day_factor(channel, day))):
                    orders.append(_order(rng, day, region, channel, _pick(rng, popularity)))
        low, high = WEST_RAMP_PER_DAY
        ramp = low + (high - low) * offset / (days - 1)
        for _ in range(_poisson(rng, ramp)):
            channel = _pick(rng, {"Online": 0.6, "Retail": 0.25, "Partner": 0.15})
            if channel == "Retail" and day.weekday() >= 5 and rng.random() < 0.5:
                continue
            orders.append(_order(rng, day, "West", channel, "Smart Watch"))
    _add_defects(rng, orders)
    rows = []
    for number, order in enumerate(orders, start=1):
        row = {"order_id": f"SO-{100000 + number}", **order}
        rows.append({column: row[column] for column in COLUMNS})
    return rows


def _add_defects(rng: random.Random, orders: list[dict]) -> None:
    # Revenue is computed from the true values first, so it stays right where a field is lost.
    for order in orders:
        order["revenue"] = round(order["units"] * order["unit_price"], 2)
    # Two price outliers: a unit price keyed in 10x too high (revenue follows the typo).
    for start in (len(orders) // 5, (len(orders) * 3) // 4):
        order = next(o for o in orders[start:] if o["customer_segment"] == "Consumer")
        order["unit_price"] = round(order["unit_price"] * 10, 2)
        order["revenue"] = round(order["units"] * order["unit_price"], 2)
    for column in ("region", "units", "unit_price"):
        for order in orders:
            if rng.random() < NULL_RATE:
                order[column] = None
    # Exactly one mis-typed value: a Partner order whose units were typed as a word.
    typo = next(
        o
        for o in orders[len(orders) // 2 :]
        if o["channel"] == "Partner" and None not in (o["units"], o["unit_price"], o["region"])
    )
    typo["units"] = "twelve"
    typo["revenue"] = round(12 * typo["unit_price"], 2)


def render(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write")
    args = parser.parse_args(argv)
    data = render(generate())
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from the generator'}")
        return 0 if same else 1
    args.output.write_bytes(data)
    rows = data.count(b"\n")
    print(f"wrote {args.output} ({rows} rows, {len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
