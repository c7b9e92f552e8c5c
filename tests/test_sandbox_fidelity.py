"""Fidelity: the 511 DS-1000 problems pass or fail in the sandbox exactly as in a plain process.

The benchmark's own protocol (harness + reference solution, a fresh process each), run through
the product's path: `agentforge eval` replaying the references, scored in a sandbox kernel. The
plain side runs the same runner in an ordinary Python process, on the other core meanwhile; a few
problems are also checked in a brand-new interpreter each, as the benchmark's authors run them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentforge_jupyter.evals import run_eval
from agentforge_jupyter.evals.ds1000 import RUNNER, load_ds1000, program_for

DS1000 = Path("data") / "ds1000" / "ds1000-pandas-numpy.jsonl.gz"
PLAIN = (
    RUNNER
    + """
import json, sys
programs = json.load(open(sys.argv[1]))
results = {pid: _ds1000_one(program, 120) for pid, program in programs.items()}
json.dump(results, open(sys.argv[2], "w"))
"""
)
# Every problem whose outcome differs between the sandbox and a plain process, with its cause.
# Empty: the sandbox changes no outcome. A new entry must come with its reason.
EXPECTED_DISAGREEMENTS: dict[str, str] = {}
SPOT_CHECK = 6


@pytest.mark.slow
@pytest.mark.usefixtures("full_isolation")
def test_ds1000_outcomes_match_a_plain_process(shared: Path, tmp_path: Path) -> None:
    tasks = load_ds1000(shared / DS1000)
    assert len(tasks) == 511
    programs = tmp_path / "programs.json"
    programs.write_text(json.dumps({t.id: program_for(t, t.payload["reference"]) for t in tasks}))
    plain_out = tmp_path / "plain.json"
    plain = subprocess.Popen(  # runs on the other core while the sandbox works
        [sys.executable, "-c", PLAIN, str(programs), str(plain_out)], cwd=tmp_path
    )
    replay = tmp_path / "references.jsonl"
    replay.write_text(
        "\n".join(json.dumps({"id": t.id, "code": t.payload["reference"]}) for t in tasks)
    )

    result = run_eval(f"ds1000:{shared / DS1000}", [f"replay:{replay}"], workers=1)

    assert plain.wait(timeout=1800) == 0
    baseline = {pid: verdict == "" for pid, verdict in json.loads(plain_out.read_text()).items()}
    sandboxed = {r.task_id: r.passed for r in result.store.records()}
    assert set(baseline) == set(sandboxed) and len(baseline) == 511
    disagree = sorted((pid for pid in baseline if baseline[pid] != sandboxed[pid]), key=int)
    report = {pid: f"plain={baseline[pid]} sandbox={sandboxed[pid]}" for pid in disagree}
    print(
        f"DS-1000: plain {sum(baseline.values())}/511 pass, sandbox "
        f"{sum(sandboxed.values())}/511 pass, disagreements: {report}"
    )
    assert len(disagree) <= 511 // 100  # >= 99% agreement
    assert set(disagree) == set(EXPECTED_DISAGREEMENTS), report

    by_id = {t.id: t for t in tasks}
    passing = [pid for pid in baseline if baseline[pid]][:SPOT_CHECK]
    failing = [pid for pid in baseline if not baseline[pid]][:SPOT_CHECK]
    for pid in passing + failing:
        fresh = subprocess.run(
            [sys.executable, "-c", "import sys\nexec(sys.stdin.read(), {})"],
            input=program_for(by_id[pid], by_id[pid].payload["reference"]),
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert (fresh.returncode == 0) == baseline[pid], (pid, fresh.stderr[-500:])
