"""The offline brain's insights: the printed ``FACT: label = value`` lines that answer the goal.

Nothing is inferred: every line restates a fact the executed code printed. Facts are ranked by
relevance to the goal (its words, with a few synonyms for growth and seasonality; answers such
as "highest" or "change for" before counts of rows), and at most ``MAX_LINES`` are written, so
the answer leads instead of being cut after the boilerplate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..base import Observation
from .profile import tokens

__all__ = [
    "MAX_LINES",
    "insights_from_observations",
    "merge_per_group",
    "parse_facts",
    "rank_facts",
]

MAX_LINES = 8
_FACT_RE = re.compile(r"^\s*FACT:\s*(?P<label>.+?)\s+=\s+(?P<value>.+?)\s*$", re.MULTILINE)
_STOPWORDS = {
    "the", "and", "for", "was", "what", "which", "how", "did", "does", "are", "is", "its", "it",
    "of", "in", "on", "by", "to", "a", "an", "me", "show", "give", "over", "with", "from", "this",
    "that", "there", "any", "data",
}  # fmt: skip
_RELATED = {
    "growth": ("change", "increase", "decrease", "rose", "fell"),
    "grow": ("change", "increase", "decrease"),
    "drove": ("change", "increase", "highest", "share"),
    "drive": ("change", "increase", "highest", "share"),
    "driver": ("change", "increase", "highest", "share"),
    "seasonal": ("weekday",),
    "seasonality": ("weekday",),
    "trend": ("change", "peak", "period"),
    "best": ("highest", "top", "strongest"),
    "worst": ("lowest", "bottom", "weakest"),
    "volatile": ("variation", "volatility", "change"),
}
_ANSWER_WORDS = {"highest", "largest", "strongest", "change", "increase", "decrease", "peak"}
_BOILERPLATE_RE = re.compile(
    r"^(rows|columns|numeric columns|groups compared|\w+ periods|.* non-missing values)$"
)


def parse_facts(text: str) -> list[tuple[str, str]]:
    """``(label, value)`` for each ``FACT: label = value`` line in ``text``."""
    return [(m.group("label"), m.group("value")) for m in _FACT_RE.finditer(text or "")]


def merge_per_group(facts: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive facts whose labels differ in one word (the group: "change for region West",
    "... North") as one fact: "change for region: West +164.8%; North +27.8%"."""
    merged: list[tuple[str, str]] = []
    run: list[tuple[list[str], str]] = []
    position: int | None = None
    for label, value in [*facts, ("", "")]:
        words = label.split(" ")
        if run and label:
            diff = [i for i, (a, b) in enumerate(zip(run[-1][0], words, strict=False)) if a != b]
            same_shape = len(words) == len(run[-1][0]) and len(diff) == 1
            if same_shape and position in (None, diff[0]):
                position = diff[0]
                run.append((words, value))
                continue
        merged.extend(_collapse(run, position))
        run, position = ([(words, value)] if label else []), None
    return merged


def _collapse(run: list[tuple[list[str], str]], position: int | None) -> list[tuple[str, str]]:
    if len(run) < 3 or position is None:
        return [(" ".join(words), value) for words, value in run]
    label = " ".join(w for i, w in enumerate(run[0][0]) if i != position)
    return [(label, "; ".join(f"{words[position]} {value}" for words, value in run))]


def rank_facts(goal: str, facts: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """`facts` most relevant to `goal` first (stable: equal scores keep their order)."""
    wanted = {_stem(w) for w in tokens(goal) if w not in _STOPWORDS and len(w) > 1}
    related = {r for w in tokens(goal) for r in _RELATED.get(w, ())}
    scored = [
        (-_score(label, value, wanted, related), i, (label, value))
        for i, (label, value) in enumerate(facts)
    ]
    return [fact for *_, fact in sorted(scored)]


def _score(label: str, value: str, wanted: set[str], related: set[str]) -> int:
    words = {_stem(w) for w in tokens(label)}
    score = 2 * len(words & wanted) + 2 * len(words & related)
    score += len({_stem(w) for w in tokens(value)} & wanted)
    score += 1 if words & _ANSWER_WORDS else 0
    return score - (3 if _BOILERPLATE_RE.match(label.lower()) else 0)


def _covering(goal: str, ranked: list[tuple[str, str]], room: int) -> list[tuple[str, str]]:
    """The first `room` facts, but each part of the goal ("... and is it seasonal?") gets its
    best fact in, in place of the least relevant ones."""
    chosen = list(ranked[:room])
    replaceable = len(chosen) - 1
    for word in dict.fromkeys(tokens(goal)):
        terms = {*_RELATED.get(word, ())} | ({_stem(word)} if word not in _STOPWORDS else set())
        if not terms or any(_label_words(label) & terms for label, _ in chosen):
            continue
        extra = next((f for f in ranked[room:] if _label_words(f[0]) & terms), None)
        if extra is not None and replaceable >= room // 2:
            chosen[replaceable] = extra
            replaceable -= 1
    return chosen


def _label_words(label: str) -> set[str]:
    return {_stem(w) for w in tokens(label)}


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def insights_from_observations(goal: str, observations: Sequence[Observation]) -> str:
    """At most about `MAX_LINES` lines restating printed facts, the most relevant first."""
    failed = [
        f'- The step "{obs.title}" did not finish (status: {obs.status}).'
        for obs in observations
        if obs.status != "ok"
    ]
    facts = [fact for obs in observations for fact in merge_per_group(parse_facts(obs.output))]
    if not facts:
        lines = ["The executed steps printed no FACT lines, so there are no numbers to report."]
        return "\n\n".join([*lines, *(["\n".join(failed)] if failed else [])]) + "\n"
    room = max(MAX_LINES - len(failed), 4)
    chosen = _covering(goal, rank_facts(goal, facts), room)
    lines = [f"- {label}: {value}" for label, value in chosen]
    note = "Each line restates a FACT printed by the executed code (offline rule-based brain)"
    note += "; more in the steps' output." if len(facts) > len(chosen) else "."
    return "\n".join([*lines, *failed]) + "\n\n" + note + "\n"
