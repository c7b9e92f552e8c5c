"""The linter's API (findings, severities, rules, policies; lint/core.py, rules.py, policy.py)
and code that does not parse."""

from __future__ import annotations

import json
from pathlib import Path

from agentforge_jupyter.lint import (
    RULES,
    LintPolicy,
    LintRejectedError,
    default_policy,
    format_findings,
    has_errors,
    lint,
)

from .lint_support import codes, only

# --- API ------------------------------------------------------------------------------------


def test_finding_to_dict_and_format() -> None:
    findings = lint("import os\nx = eval('1')\n")
    assert [f.to_dict()["code"] for f in findings] == ["AF101", "AF201"]
    assert set(findings[0].to_dict()) == {"code", "severity", "line", "col", "message", "hint"}
    text = format_findings(findings)
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("AF101 error 1:1 Import of 'os'")
    assert "Hint:" in lines[0]
    assert lines[1].startswith("AF201 error 2:5 ")
    assert format_findings([]) == ""


def test_has_errors_ignores_warnings() -> None:
    warn = lint("f = open(name)\n")
    assert [f.code for f in warn] == ["AF503"]
    assert not has_errors(warn)
    assert has_errors(lint("eval('1')"))
    assert not has_errors([])


def test_findings_sorted_by_line_then_col() -> None:
    findings = lint("x = 1\ny = eval(vars())\nimport os\n")
    assert [(f.line, f.col, f.code) for f in findings] == [
        (2, 5, "AF201"),
        (2, 10, "AF201"),
        (3, 1, "AF101"),
    ]


def test_every_rule_documented_and_has_hint() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "lint.md").read_text()
    for code, rule in RULES.items():
        assert f"`{code}`" in doc, f"{code} missing from docs/lint.md"
        assert rule.hint and rule.severity in ("error", "warning")


def test_rejected_error_carries_findings() -> None:
    findings = lint("import os")
    err = LintRejectedError(findings)
    assert err.findings == findings
    assert "AF101" in str(err)


def test_findings_are_json_serialisable() -> None:
    findings = lint("import os\n!ls\n")
    data = json.loads(json.dumps([f.to_dict() for f in findings]))
    assert [d["code"] for d in data] == ["AF101", "AF401"]
    assert all(isinstance(d["line"], int) and isinstance(d["col"], int) for d in data)


def test_custom_policy_allow_list() -> None:
    narrow = LintPolicy(allowed_imports=frozenset({"math"}))
    assert codes("import math", narrow) == set()
    assert codes("import pandas", narrow) == {"AF101"}
    wide = LintPolicy.default(extra_allowed_imports={"yaml"})
    assert codes("import yaml", wide) == set()
    assert codes("import yaml") == {"AF101"}


def test_columns_count_characters_not_bytes() -> None:
    code = "s = 'héllo wörld'; x = eval('1')"
    f = only(code)
    assert (f.code, f.col) == ("AF201", code.index("eval") + 1)
    assert len(code[: f.col - 1].encode()) > f.col - 1  # bytes and characters differ here


def test_policy_default_and_extra_imports() -> None:
    policy = default_policy()
    assert {"pandas", "numpy", "math", "json", "re"} <= policy.allowed_imports
    assert "os" not in policy.allowed_imports
    assert codes("import os") == {"AF101"}
    custom = LintPolicy.default(extra_allowed_imports={"pickle"})
    assert codes("import pickle\nx = np.lib.format.pickle", custom) == set()
    # allowing the import does not allow unpickling without the module being named
    assert codes("pd.read_pickle('x.pkl')", custom) == {"AF601"}


# --- syntax ---------------------------------------------------------------------------------


def test_syntax_error_is_a_finding() -> None:
    f = only("x = (1,\ny = 2\n")
    assert f.code == "AF001" and f.severity == "error"
    assert f.line in (1, 2)


def test_syntax_error_position() -> None:
    f = only("a = 1\nb = = 2\n")
    assert (f.code, f.line, f.col) == ("AF001", 2, 5)


def test_null_byte_is_unanalysable() -> None:
    assert only("x = 1\x00").code in ("AF001", "AF002")


def test_empty_code_is_fine() -> None:
    assert lint("") == []
    assert lint("# just a comment\n") == []
