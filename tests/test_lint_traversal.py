"""The tree is walked everywhere: decorators, defaults, comprehensions, f-strings, match,
annotations ... (lint/traversal.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import has_errors, lint

# --- the tree is walked everywhere ----------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "@exec\ndef f():\n    pass",
        "def f(x=eval):\n    return x",
        "f = lambda m=__import__('os'): m",
        "xs = [eval(s) for s in items]",
        "d = {k: globals() for k in 'ab'}",
        "g = (vars(x) for x in items)",
        "class A:\n    helper = staticmethod(exec)",
        "def outer():\n    def inner():\n        return compile('1', 'f', 'eval')\n",
        "s = f'{eval(\"1\")}'",
        "async def f():\n    await g(breakpoint())",
        "try:\n    pass\nexcept Exception as e:\n    print(e.__traceback__)",
        "match v:\n    case int(__class__=c):\n        pass",
        "x: int = __import__('math').pi",
        "while vars():\n    break",
        "assert eval('1')",
        "with open('/etc/passwd') as f:\n    pass",
    ],
)
def test_nested_positions_are_walked(code: str) -> None:
    assert has_errors(lint(code)), code
