"""DS-1000 reference solutions pass lint (the few it rejects, each with the reason), and
IPython's transforms do not change valid Python."""

from __future__ import annotations

import ast
import gzip
import json
import textwrap
import warnings

from agentforge_jupyter.lint import lint

from .conftest import require, shared_dir

# --- DS-1000 references ---------------------------------------------------------------------

# Every DS-1000 reference solution the linter rejects, with the rule and why that is right.
DS1000_REJECTED: dict[int, tuple[str, str]] = {
    15: ("AF101", "imports yaml, a third-party parser outside the data-science allow-list"),
    88: ("AF201", "calls eval() on data read from a DataFrame cell: string evaluation"),
    104: ("AF201", "calls eval() on DataFrame cell text to compute arithmetic: code from data"),
    374: (
        "AF201",
        "reads a variable the harness named `eval`; without scopes the linter cannot tell it "
        "from the builtin, and a model should not shadow it",
    ),
}


def _ds1000_rows() -> list[dict]:
    path = shared_dir() / "data" / "ds1000" / "ds1000-pandas-numpy.jsonl.gz"
    require(path.is_file(), f"DS-1000 data not found at {path} (set AGENTFORGE_SHARED_DIR)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def ds1000_solution(row: dict) -> str:
    """The reference as a cell. When the harness inserts it inside `def f(...):` (its
    `[insert]` follows a line ending in ':'), the indented body is wrapped in `def _f():`
    so it parses, keeping `return` legal; otherwise it is linted as is."""
    code = row["reference_code"]
    context = row["code_context"]
    before = context[: context.find("[insert]")].rstrip("\n").rsplit("\n", 1)[-1]
    if before.rstrip().endswith(":"):
        return "def _f():\n" + code
    return code


def test_ds1000_references_pass_lint() -> None:
    rows = _ds1000_rows()
    assert len(rows) == 511
    rejected: dict[int, set[str]] = {}
    for row in rows:
        findings = lint(ds1000_solution(row))
        assert not any(f.code == "AF001" for f in findings), row["metadata"]["problem_id"]
        errors = {f.code for f in findings if f.severity == "error"}
        if errors:
            rejected[row["metadata"]["problem_id"]] = errors
    assert set(rejected) == set(DS1000_REJECTED)
    for pid, (rule, _why) in DS1000_REJECTED.items():
        assert rule in rejected[pid], (pid, rejected[pid])
    passed = len(rows) - len(rejected)
    assert passed / len(rows) >= 0.98


def test_ds1000_indented_references_are_wrapped() -> None:
    rows = _ds1000_rows()
    wrapped = [r for r in rows if ds1000_solution(r).startswith("def _f():\n")]
    assert len(wrapped) == 29
    for row in wrapped:
        # dedent would also parse these; the wrap keeps `return` inside a function
        ast.parse(textwrap.dedent(row["reference_code"]))


def test_ipython_transform_is_identity_on_valid_python() -> None:
    """Why lint() skips IPython's transforms for code that already parses: they do not
    change valid Python (checked on every DS-1000 reference)."""
    from IPython.core.inputtransformer2 import TransformerManager

    manager = TransformerManager()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in some references
        for row in _ds1000_rows():
            code = ds1000_solution(row)
            before = ast.dump(ast.parse(code))
            assert ast.dump(ast.parse(manager.transform_cell(code))) == before
