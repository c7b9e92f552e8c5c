"""Tool retrieval at scale: 10, 1,000 and 10,000 generated tools.

    python benchmarks/tools.py [--queries N] [--out benchmarks/results/tools.json]

The synthetic registries (benchmarks/tool_corpus.py) are written as tools.json directly (no
sandbox verification): names, docstrings and tags come from a vocabulary of analysis operations
x measures x dimensions. Each query is a paraphrase an analyst might type for one tool ("moving
average of revenue for each region"), using the operation's everyday wording rather than the
tool's name.

Measured per size: index build time (first query after a change), retrieval time of a warm
query (mean, p50, p95; target p95 <= 10 ms at 10,000), the size of the tools section of the
prompt as sent (``brains.prompts.tools_section``) for k=5 (target: flat), and recall@5 on the
generated query-to-tool pairs (target >= 0.9).

Held out: ``benchmarks/data/tool_queries.json``, 105 queries in plain analyst language (written
from what analysts ask, not from the tools' names or docstrings) each naming the starter tool
that answers it. Recall@1/@3/@5 is measured on the shipped starter tools alone and with the
starter tools mixed into 1,000 generated ones (target: recall@5 >= 0.8 mixed). The exit status
is non-zero when any target is missed.

Development: ``benchmarks/data/tool_queries_dev.json``, 140 other analyst queries written
separately (without reading the held-out set) to tune the retriever's vocabulary and weights
against; reported in the same two settings, with no target.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentforge_jupyter.brains.prompts import tools_section
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.tools import ToolRegistry, retrieve
from agentforge_jupyter.trust import TrustStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The generated tools and queries (tests/test_tools_retrieval.py reads _combos and _record here).
from benchmarks.tool_corpus import _combos, _query, _record, _write_registry  # noqa: E402

SIZES = (10, 1_000, 10_000)
K = 5
TARGET_MS = 10.0
TARGET_RECALL = 0.9
TARGET_HELDOUT_RECALL = 0.8
HELDOUT = Path(__file__).parent / "data" / "tool_queries.json"
DEVELOPMENT = Path(__file__).parent / "data" / "tool_queries_dev.json"


def bench_size(size: int, queries: int, workdir: Path) -> dict[str, Any]:
    combos = _combos()[:size]
    registry = _write_registry(workdir / f"state-{size}", combos)
    rng = random.Random(size)
    sample = combos if len(combos) <= queries else rng.sample(combos, queries)
    pairs = [(_query(*c, rng), _record(*c)["name"]) for c in sample]

    started = time.perf_counter()
    retrieve(pairs[0][0], k=K, registry=registry)  # builds the index
    build_ms = (time.perf_counter() - started) * 1000

    times, hits_at_k, prompt_sizes, per_hit = [], 0, [], []
    for query, expected in pairs:
        t0 = time.perf_counter()
        hits = retrieve(query, k=K, registry=registry)
        times.append((time.perf_counter() - t0) * 1000)
        hits_at_k += expected in [h.name for h in hits]
        # The tools part of the message exactly as a brain is sent it.
        prompt_sizes.append(len(tools_section(hits)) if hits else 0)
        if hits:
            per_hit.append(prompt_sizes[-1] / len(hits))
    times.sort()
    return {
        "tools": size,
        "queries": len(pairs),
        "tools_json_bytes": registry.path.stat().st_size,
        "index_build_ms": round(build_ms, 1),
        "retrieve_ms_mean": round(statistics.fmean(times), 3),
        "retrieve_ms_p50": round(times[len(times) // 2], 3),
        "retrieve_ms_p95": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3),
        "prompt_chars_mean": round(statistics.fmean(prompt_sizes), 1),
        "prompt_chars_max": max(prompt_sizes),
        "prompt_chars_per_hit": round(statistics.fmean(per_hit), 1),
        "recall_at_5": round(hits_at_k / len(pairs), 4),
    }


def _recall(registry: ToolRegistry, queries: list[list[str]]) -> dict[str, float]:
    found = {1: 0, 3: 0, 5: 0}
    for text, expected in queries:
        names = [h.name for h in retrieve(text, k=K, registry=registry)]
        for k in found:
            found[k] += expected in names[:k]
    return {f"recall_at_{k}": round(v / len(queries), 4) for k, v in found.items()}


def bench_heldout(workdir: Path, path: Path = HELDOUT) -> dict[str, Any]:
    """Recall on analyst queries (held-out by default): starter tools alone, and among 1,000
    others."""
    queries = json.loads(path.read_text(encoding="utf-8"))["queries"]
    trust = TrustStore(workdir / "cfg-alone")  # never the user's own config
    alone = ToolRegistry.opened(StateDir(workdir / "heldout-alone"), trust=trust)
    mixed = _write_registry(workdir / "heldout-mixed", _combos()[:1_000])
    from agentforge_jupyter.tools import install_shipped_tools

    starters = ToolRegistry(StateDir(workdir / "starters-src"), trust=mixed.verdicts.trust)
    install_shipped_tools(starters)
    with mixed.document.update() as data:
        data["items"].update(starters.document.read()["items"])
    return {
        "queries": len(queries),
        "starters_alone": _recall(alone, queries),
        "among_1000": _recall(mixed, queries),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=500, help="queries per size (sampled)")
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "tools.json"), help="JSON output"
    )
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            rows.append(bench_size(size, args.queries, Path(tmp)))
        heldout = bench_heldout(Path(tmp) / "heldout")
        development = bench_heldout(Path(tmp) / "development", DEVELOPMENT)
    header = (
        f"{'tools':>7} {'queries':>7} {'build ms':>9} {'mean ms':>8} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'prompt chars':>12} {'per hit':>7} {'recall@5':>8}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['tools']:>7} {r['queries']:>7} {r['index_build_ms']:>9.1f} "
            f"{r['retrieve_ms_mean']:>8.3f} {r['retrieve_ms_p50']:>7.3f} "
            f"{r['retrieve_ms_p95']:>7.3f} {r['prompt_chars_mean']:>12.0f} "
            f"{r['prompt_chars_per_hit']:>7.0f} "
            f"{r['recall_at_5']:>8.3f}"
        )
    largest = rows[-1]
    per_hit = [r["prompt_chars_per_hit"] for r in rows]
    verdict = {
        "retrieve_p95_ms_at_10000": largest["retrieve_ms_p95"],
        "retrieve_target_ms": TARGET_MS,
        "retrieve_ok": largest["retrieve_ms_p95"] <= TARGET_MS,
        # Chars per retrieved tool, largest over smallest registry: 1.0 is perfectly flat.
        # (The 10-tool registry often has fewer than k matching tools, so totals are smaller.)
        "prompt_per_hit_ratio": round(max(per_hit) / min(per_hit), 3),
        "prompt_chars_max_at_10000": largest["prompt_chars_max"],
        "recall_target": TARGET_RECALL,
        "recall_ok": all(r["recall_at_5"] >= TARGET_RECALL for r in rows),
        "heldout_recall_at_5_among_1000": heldout["among_1000"]["recall_at_5"],
        "heldout_target": TARGET_HELDOUT_RECALL,
        "heldout_ok": heldout["among_1000"]["recall_at_5"] >= TARGET_HELDOUT_RECALL,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "tools",
        "k": K,
        "python": sys.version.split()[0],
        "rows": rows,
        "heldout": heldout,
        "development": development,
        "verdict": verdict,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"held-out analyst queries ({heldout['queries']}): {json.dumps(heldout)}")
    print(f"development queries ({development['queries']}, no target): {json.dumps(development)}")
    print(json.dumps(verdict))
    print(f"written to {out}")
    ok = verdict["retrieve_ok"] and verdict["recall_ok"] and verdict["heldout_ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
