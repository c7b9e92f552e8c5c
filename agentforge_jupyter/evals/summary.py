"""From task records to the numbers a reader wants: per brain, per category, and A against B."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

from . import dabench
from .stats import compare
from .tasks import TaskRecord


def summarize(records: list[TaskRecord], brains: list[str], *, seed: int = 0) -> dict[str, Any]:
    by_brain: dict[str, list[TaskRecord]] = defaultdict(list)
    for record in records:
        by_brain[record.brain].append(record)
    summary: dict[str, Any] = {
        "brains": {name: _brain_summary(by_brain.get(name, [])) for name in brains},
        "comparisons": [],
    }
    for a, b in combinations(brains, 2):
        passed_a = {r.task_id: r.passed for r in by_brain.get(a, [])}
        passed_b = {r.task_id: r.passed for r in by_brain.get(b, [])}
        summary["comparisons"].append(compare(a, passed_a, b, passed_b, seed=seed).to_dict())
    return summary


def _brain_summary(records: list[TaskRecord]) -> dict[str, Any]:
    categories: dict[str, list[TaskRecord]] = defaultdict(list)
    for record in records:
        categories[record.category].append(record)
    result: dict[str, Any] = {
        **_counts(records),
        "by_category": {name: _counts(items) for name, items in sorted(categories.items())},
        "errors": dict(Counter(r.error_class for r in records if r.error_class).most_common()),
        "prompt_tokens": sum(r.prompt_tokens for r in records),
        "completion_tokens": sum(r.completion_tokens for r in records),
        "seconds": round(sum(r.duration_s for r in records), 3),
    }
    if any(r.correctness for r in records):
        result["dabench"] = dabench.accuracies([r.to_dict() for r in records])
        result["dabench_by_level"] = {
            name: dabench.accuracies([r.to_dict() for r in items])
            for name, items in sorted(categories.items())
        }
    return result


def _counts(records: list[TaskRecord]) -> dict[str, Any]:
    passed = sum(r.passed for r in records)
    return {
        "tasks": len(records),
        "passed": passed,
        "rate": round(passed / len(records), 4) if records else 0.0,
    }


def text_report(summary: dict[str, Any]) -> str:
    """A side-by-side table (overall and per category), then each comparison in one sentence."""
    brains = list(summary["brains"])
    categories = sorted({c for b in summary["brains"].values() for c in b["by_category"]})
    header = ["", *brains]
    rows = [["overall", *(_cell(summary["brains"][b]) for b in brains)]]
    for category in categories:
        cells = [_cell(summary["brains"][b]["by_category"].get(category)) for b in brains]
        rows.append([category, *cells])
    for metric in ("by_question", "by_sub_question", "proportional"):
        if all("dabench" in summary["brains"][b] for b in brains):
            values = [f"{summary['brains'][b]['dabench'][metric]:.1%}" for b in brains]
            rows.append([f"DABench {metric.replace('_', ' ')}", *values])
    lines = _table([header, *rows])
    for comparison in summary["comparisons"]:
        lines.append(_comparison_sentence(comparison))
    return "\n".join(lines)


def _cell(counts: dict[str, Any] | None) -> str:
    if not counts or not counts["tasks"]:
        return "-"
    return f"{counts['rate']:.1%} ({counts['passed']}/{counts['tasks']})"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return out


def _comparison_sentence(c: dict[str, Any]) -> str:
    verdict = "no significant difference"
    if c["p_value"] < 0.05:
        better = c["brain_a"] if c["difference"] > 0 else c["brain_b"]
        verdict = f"{better} is better"
    return (
        f"{c['brain_a']} - {c['brain_b']}: {c['difference']:+.1%} "
        f"[95% CI {c['ci_low']:+.1%}, {c['ci_high']:+.1%}], McNemar p = {c['p_value']:.3g}, "
        f"{c['tasks']} paired tasks: {verdict}"
    )
