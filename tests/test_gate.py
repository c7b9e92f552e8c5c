"""The host-side gate on code that leaves the sandbox."""

from __future__ import annotations

import ast

from agentforge_jupyter.gate import BLOCKED_HEADER, gate_code


def test_clean_code_passes_unchanged() -> None:
    source = "import pandas as pd\nprint(pd.__version__)\n"
    gated = gate_code(source)
    assert not gated.blocked
    assert gated.source == source
    assert gated.reasons() == []


def test_error_code_is_commented_out_with_reasons() -> None:
    source = "import os\nos.system('id')\r__import__('os').system('id')\u2028x = 1"
    gated = gate_code(source)
    assert gated.blocked
    assert gated.source.startswith(BLOCKED_HEADER)
    assert any("AF" in reason for reason in gated.reasons())
    tree = ast.parse(gated.source)
    assert tree.body == []  # nothing runnable is left
    for line in gated.source.split("\n"):
        assert line.startswith("#")
