"""BM25 over a tool's name, docstring prose, tags and parameter names (their stems and analyst
concept tokens, ``vocabulary``), re-ranked by how much of the tool's name the goal asks for
(name precision), plus a bonus when its parameters fit the dataset's columns.

The index is built once per version of ``tools.json`` and of the user's trust records (cache
keyed by path, inode, mtime and size) and holds, per token, a numpy array of document ids and
precomputed BM25 weights, so a query is a handful of vector additions and one
``argpartition``: well under 10 ms at 10,000 tools. Only what the registry offers runs
(``ToolRegistry.active()``: verified on this machine) is indexed. This module knows the
registry only through the small :class:`ToolSource` protocol (no import cycle).
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..model import Tool
from .fit import fit_score, param_kinds, profile_view
from .text import prose, tokenize
from .vocabulary import query_terms, terms, word_terms

__all__ = ["ToolHit", "ToolIndex", "ToolSource", "build_index", "index_for"]

K1 = 1.2
# Length normalisation below the usual 0.75: a tool documented at length is not less relevant.
B = 0.5
# Field weights: a word in the name says more about a tool than one in its docstring.
FIELD_WEIGHTS = {"name": 3.0, "tags": 2.0, "params": 1.5, "doc": 1.0}
#: Share of the best text score added for a perfect column fit (subtracted for a misfit).
COLUMN_BONUS = 0.25
CANDIDATES = 50
#: Score factor of a candidate whose name says nothing the goal asks for (1 when all of it).
NAME_FLOOR = 0.5


# Members are read-only properties so that implementations may narrow their types.
class _Trust(Protocol):
    @property
    def path(self) -> Path: ...


class _Verdicts(Protocol):
    @property
    def trust(self) -> _Trust: ...


class ToolSource(Protocol):
    """What the index needs of a registry."""

    @property
    def verdicts(self) -> _Verdicts: ...

    @property
    def path(self) -> Path: ...

    def active(self) -> list[Tool]: ...


@dataclass(frozen=True)
class ToolHit:
    """One retrieved tool: enough to describe it to a model and to import it."""

    name: str
    version: int
    score: float
    signature: str
    docstring: str
    tags: tuple[str, ...] = ()
    column_fit: float = 0.0
    matched: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "score": round(self.score, 4),
            "signature": self.signature,
            "docstring": self.docstring,
            "tags": list(self.tags),
            "column_fit": round(self.column_fit, 3),
            "matched": list(self.matched),
        }


@dataclass
class _Doc:
    name: str
    version: int
    signature: str
    docstring: str
    tags: tuple[str, ...]
    kinds: tuple[str, ...]
    words: frozenset[str]
    tokens: frozenset[str]
    # Per word of the name: (its IDF, its stem and concept tokens); filled in by build_index.
    name_units: tuple[tuple[float, frozenset[str]], ...] = ()


@dataclass
class ToolIndex:
    """Precomputed BM25 postings over the active tools."""

    docs: list[_Doc] = field(default_factory=list)
    postings: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.docs)

    def search(self, goal: str, profile: dict[str, Any] | None = None, k: int = 5) -> list[ToolHit]:
        n = len(self.docs)
        if n == 0 or k <= 0:
            return []
        scores = np.zeros(n, dtype=np.float32)
        terms = query_terms(goal)
        for term, weight in terms.items():
            posting = self.postings.get(term)
            if posting is not None:
                ids, weights = posting
                scores[ids] += weights * weight
        top = float(scores.max())
        if top <= 0.0:
            return []
        m = min(n, max(CANDIDATES, k))
        candidates = np.argpartition(-scores, m - 1)[:m] if m < n else np.arange(n)
        view = profile_view(profile)
        ranked = []
        for i in candidates:
            text = float(scores[i])
            if text <= 0.0:
                continue
            doc = self.docs[int(i)]
            text *= NAME_FLOOR + (1.0 - NAME_FLOOR) * _name_precision(doc.name_units, terms)
            fit = fit_score(doc.kinds, doc.words, *view) if view else 0.0
            ranked.append((text + COLUMN_BONUS * fit * top, fit, doc))
        ranked.sort(key=lambda r: (-r[0], r[2].name))
        return [
            ToolHit(
                name=doc.name,
                version=doc.version,
                score=score,
                signature=doc.signature,
                docstring=doc.docstring,
                tags=doc.tags,
                column_fit=fit,
                matched=tuple(sorted(t for t in terms if t in doc.tokens)),
            )
            for score, fit, doc in ranked[:k]
        ]


def _name_precision(
    units: tuple[tuple[float, frozenset[str]], ...], terms: dict[str, float]
) -> float:
    """IDF-weighted share of the tool name's words that the query asks for (by stem or
    concept). A name that says things the goal did not ask for ("top_decile_calls_by_product"
    for "best selling products") describes a more specialised tool than the goal wants."""
    total = sum(idf for idf, _ in units)
    if total <= 0.0:
        return 1.0
    return sum(idf for idf, unit in units if any(t in terms for t in unit)) / total


def _fields(record: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "name": terms(record["name"]),
        "tags": [t for tag in record.get("tags", ()) for t in terms(tag)],
        "params": [t for p in record.get("params", ()) for t in terms(p["name"])],
        "doc": terms(prose(record.get("docstring", ""))),
    }


def build_index(records: list[dict[str, Any]]) -> ToolIndex:
    """Index tool records (``Tool.to_dict()`` shape); callers pass the active versions."""
    index = ToolIndex()
    weighted: list[defaultdict[str, float]] = []  # weighted term frequencies
    for record in records:
        tf: defaultdict[str, float] = defaultdict(float)
        for field_name, tokens in _fields(record).items():
            for token in tokens:
                tf[token] += FIELD_WEIGHTS[field_name]
        weighted.append(tf)
        params = record.get("params", [])
        words = {t for p in params for t in tokenize(p["name"])} | set(tokenize(record["name"]))
        index.docs.append(
            _Doc(
                name=record["name"],
                version=int(record["version"]),
                signature=record.get("signature", record["name"] + "(...)"),
                docstring=record.get("docstring", ""),
                tags=tuple(record.get("tags", ())),
                kinds=param_kinds(params),
                words=frozenset(words),
                tokens=frozenset(tf),
            )
        )
    n = len(weighted)
    if n == 0:
        return index
    lengths = np.array([sum(tf.values()) for tf in weighted], dtype=np.float64)
    avg = float(lengths.mean()) or 1.0
    norm = K1 * (1 - B + B * lengths / avg)
    per_term: dict[str, tuple[list[int], list[float]]] = {}
    for i, tf in enumerate(weighted):
        for token, count in tf.items():
            ids, values = per_term.setdefault(token, ([], []))
            ids.append(i)
            values.append(count * (K1 + 1) / (count + norm[i]))
    idfs: dict[str, float] = {}
    for token, (ids, values) in per_term.items():
        df = len(ids)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        idfs[token] = float(idf)
        index.postings[token] = (
            np.asarray(ids, dtype=np.int32),
            (np.asarray(values) * idf).astype(np.float32),
        )
    for doc in index.docs:
        doc.name_units = tuple((idfs.get(s, 0.0), unit) for s, unit in word_terms(doc.name))
    return index


_cache: dict[str, tuple[tuple[Any, ...], ToolIndex]] = {}
_cache_lock = threading.Lock()


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def index_for(registry: ToolSource) -> ToolIndex:
    """The index of what ``registry`` offers runs (:meth:`ToolRegistry.active`), rebuilt only
    when tools.json or the user's trust records changed (inode/mtime/size)."""
    path = Path(registry.path)
    tools_key = _stat_key(path)
    if tools_key is None:
        return ToolIndex()
    key = (tools_key, _stat_key(registry.verdicts.trust.path))
    with _cache_lock:
        cached = _cache.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1]
    index = build_index([t.to_dict() for t in registry.active()])
    with _cache_lock:
        _cache[str(path)] = (key, index)
    return index
