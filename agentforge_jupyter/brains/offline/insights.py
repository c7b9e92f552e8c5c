"""The offline brain's insights: the printed ``FACT: label = value`` lines that answer the goal.

Nothing is inferred: every line restates a fact the executed code printed. Facts are ranked by
relevance to the goal (its words, with a few synonyms for growth and seasonality; answers such
as "highest" or "change for" before counts of rows), and at most ``MAX_LINES`` are written, so
the answer leads instead of being cut after the boilerplate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..base import Observation
from .profile import tokens

__all__ = [
    "MAX_LINES",
    "Entry",
    "insights_from_observations",
    "merge_per_group",
    "parse_facts",
    "rank_entries",
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


@dataclass
class Entry:
    """One fact, or a group of facts whose labels differ only in the group ("change for region
    West", "... North"): `items` are (member, value), member empty for a single fact."""

    label: str
    items: list[tuple[str, str]]

    @property
    def lines(self) -> int:
        return len(self.items)

    @property
    def words(self) -> set[str]:
        return {_stem(w) for w in tokens(self.label)}

    def markdown(self) -> str:
        if len(self.items) == 1 and not self.items[0][0]:
            return f"- {self.label}: {self.items[0][1]}"
        rows = [f"- {member}: {value}" for member, value in self.items]
        return "\n".join([f"**{self.label}**", *rows])


def merge_per_group(facts: Sequence[tuple[str, str]]) -> list[Entry]:
    """Facts as entries; three or more consecutive facts whose labels differ in one word make
    one group entry."""
    merged: list[Entry] = []
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


def _collapse(run: list[tuple[list[str], str]], position: int | None) -> list[Entry]:
    if len(run) < 3 or position is None:
        return [Entry(" ".join(words), [("", value)]) for words, value in run]
    label = " ".join(w for i, w in enumerate(run[0][0]) if i != position)
    return [Entry(label, [(words[position], value) for words, value in run])]


def rank_entries(goal: str, entries: Sequence[Entry]) -> list[Entry]:
    """`entries` most relevant to `goal` first (stable: equal scores keep their order)."""
    wanted = {_stem(w) for w in tokens(goal) if w not in _STOPWORDS and len(w) > 1}
    related = {r for w in tokens(goal) for r in _RELATED.get(w, ())}
    scored = [(-_score(e, wanted, related), i, e) for i, e in enumerate(entries)]
    return [entry for *_, entry in sorted(scored, key=lambda t: (t[0], t[1]))]


def _score(entry: Entry, wanted: set[str], related: set[str]) -> int:
    words = entry.words
    score = 2 * len(words & wanted) + 2 * len(words & related)
    values = " ".join(f"{member} {value}" for member, value in entry.items)
    score += len({_stem(w) for w in tokens(values)} & wanted)
    score += 1 if words & _ANSWER_WORDS else 0
    # A relevant breakdown ("change for region": every member) answers "which ..." best.
    score += 2 if len(entry.items) > 1 and words & (wanted | related) else 0
    return score - (3 if _BOILERPLATE_RE.match(entry.label.lower()) else 0)


def _select(goal: str, ranked: list[Entry], budget: int) -> list[Entry]:
    """Entries by rank within `budget` lines (the first, the answer, always whole); then the
    best entry for each part of the goal ("... and is it seasonal?") not yet in, in place of
    the least relevant single facts."""
    chosen: list[Entry] = []
    left = budget
    for entry in ranked:
        if not chosen or entry.lines <= left:
            chosen.append(entry)
            left -= entry.lines
    for cover in _covers(goal, ranked):
        if cover in chosen:
            continue
        while cover.lines > left:
            spare = [e for e in chosen[1:] if e.lines == 1 and e not in _covers(goal, ranked)]
            if not spare:
                break
            chosen.remove(spare[-1])
            left += 1
        if cover.lines <= left:
            chosen.append(cover)
            left -= cover.lines
    return sorted(chosen, key=ranked.index)


def _covers(goal: str, ranked: list[Entry]) -> list[Entry]:
    found = []
    for word in dict.fromkeys(tokens(goal)):
        terms = {*_RELATED.get(word, ())} | ({_stem(word)} if word not in _STOPWORDS else set())
        best = next(
            (
                e
                for e in ranked
                if terms and e.words & terms and not _BOILERPLATE_RE.match(e.label.lower())
            ),
            None,
        )
        if best is not None and best not in found:
            found.append(best)
    return found


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def insights_from_observations(goal: str, observations: Sequence[Observation]) -> str:
    """About `MAX_LINES` lines restating printed facts, the most relevant first. Groups of
    facts are a bold heading with one bullet per member, so each bullet reads on its own."""
    failed = [
        f'- The step "{obs.title}" did not finish (status: {obs.status}).'
        for obs in observations
        if obs.status != "ok"
    ]
    entries = [e for obs in observations for e in merge_per_group(parse_facts(obs.output))]
    if not entries:
        lines = ["The executed steps printed no FACT lines, so there are no numbers to report."]
        return "\n\n".join([*lines, *(["\n".join(failed)] if failed else [])]) + "\n"
    chosen = _select(goal, rank_entries(goal, entries), max(MAX_LINES - len(failed), 4))
    blocks: list[str] = []
    singles: list[str] = []
    for entry in chosen:
        if entry.lines == 1 and not entry.items[0][0]:
            singles.append(entry.markdown())
            continue
        blocks += ["\n".join(singles)] if singles else []
        blocks.append(entry.markdown())
        singles = []
    blocks += ["\n".join([*singles, *failed])] if singles or failed else []
    note = "Each line restates a FACT printed by the executed code (offline rule-based brain)"
    note += "; more in the steps' output." if len(chosen) < len(entries) else "."
    return "\n\n".join([*blocks, note]) + "\n"
