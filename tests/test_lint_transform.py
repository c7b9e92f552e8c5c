"""IPython syntax: magics and shell escapes are transformed as the kernel would, and findings
map back to the cell's lines (lint/transform.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, lint

from .lint_support import only

# --- IPython --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule", "line"),
    [
        ("!ls", "AF401", 1),
        ("x = 1\n!!ls -la\n", "AF401", 2),
        ("files = !ls\n", "AF401", 1),
        ("x = 1\n\n%time y = 2\n", "AF402", 3),
        ("%%bash\necho hi\n", "AF402", 1),
        ("a = 1\n%matplotlib inline\nb = 2\n", "AF402", 2),
        ("df?\n", "AF402", 1),
        ("def f():\n    !ls\n", "AF401", 2),
        ("x = [1,\n     2]\n!ls \\\n  -la\ny = 3\n!pwd\n", "AF401", 3),
        ("get_ipython().system('ls')\n", "AF401", 1),
        ("get_ipython().run_line_magic('env', '')\n", "AF402", 1),
        ("ip = get_ipython()\n", "AF403", 1),
    ],
)
def test_ipython_syntax(code: str, rule: str, line: int) -> None:
    findings = [f for f in lint(code) if f.code == rule]
    assert findings, format_findings(lint(code))
    assert findings[0].line == line


def test_ipython_line_mapping_after_continuation() -> None:
    code = "x = [1,\n     2]\n!ls \\\n  -la\ny = 3\n!pwd\n"
    assert [(f.code, f.line) for f in lint(code)] == [("AF401", 3), ("AF401", 6)]


def test_shell_escape_reports_once() -> None:
    f = only("!touch /tmp/x")
    assert f.code == "AF401" and "touch" in f.message


def test_ipython_magic_message_names_the_magic() -> None:
    assert "%%bash" in only("%%bash\nls\n").message
    assert "%time" in only("%time 1+1\n").message
