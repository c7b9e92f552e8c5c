"""The offline brain's insights: it restates only ``FACT: label = value`` lines the code printed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..base import Observation

__all__ = ["insights_from_observations", "parse_facts"]

_FACT_RE = re.compile(r"^\s*FACT:\s*(?P<label>.+?)\s+=\s+(?P<value>.+?)\s*$", re.MULTILINE)
_MAX_FACTS_PER_STEP = 10


def parse_facts(text: str) -> list[tuple[str, str]]:
    """``(label, value)`` for each ``FACT: label = value`` line in ``text``."""
    return [(m.group("label"), m.group("value")) for m in _FACT_RE.finditer(text or "")]


def insights_from_observations(goal: str, observations: Sequence[Observation]) -> str:
    """Insights that restate the printed FACT lines, step by step; never a number of our own."""
    sections: list[str] = []
    failed: list[str] = []
    for obs in observations:
        if obs.status != "ok":
            failed.append(f'- The step "{obs.title}" did not finish (status: {obs.status}).')
        facts = parse_facts(obs.output)
        if not facts:
            continue
        lines = [f"**{obs.title}**"]
        lines += [f"- {label}: {value}" for label, value in facts[:_MAX_FACTS_PER_STEP]]
        if len(facts) > _MAX_FACTS_PER_STEP:
            lines.append("- (more facts in the step's output)")
        sections.append("\n".join(lines))
    if not sections:
        text = (
            "The executed steps printed no FACT lines, so I have no numbers to report and I "
            "will not guess. (The offline brain only restates numbers that the code printed.)"
        )
        return "\n\n".join([text, *(["\n".join(failed)] if failed else [])]) + "\n"
    intro = (
        "Insights from the executed steps. Written by the offline rule-based brain: each "
        "line restates a FACT that the code printed; nothing else is inferred."
    )
    parts = [intro, *sections]
    if failed:
        parts.append("\n".join(failed))
    return "\n\n".join(parts) + "\n"
