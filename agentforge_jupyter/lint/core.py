"""The entry point: parse, transform IPython syntax when needed, traverse, sort."""

from __future__ import annotations

import ast
import warnings

from .policy import LintPolicy, default_policy
from .rules import RULES, Finding
from .transform import map_lines, syntax_finding, transform_ipython
from .traversal import Checker


def lint(code: str, policy: LintPolicy | None = None) -> list[Finding]:
    """Check one cell of model-written code; findings sorted by line and column.

    IPython syntax (`!cmd`, `%magic`, `%%cell`, `obj?`) is transformed the way the kernel would
    transform it before the checks run, so escapes and magics are found as the calls they become.
    Code that already parses as plain Python is left as is: IPython's transforms only rewrite
    lines that are not valid Python, so they would not change it.
    """
    policy = policy or default_policy()
    source = code
    line_map: list[int] | None = None
    try:
        tree = _parse(source)
    except SyntaxError:
        tree = None
    except (ValueError, RecursionError, MemoryError) as exc:
        return [_unanalysable(exc)]
    if tree is None:
        try:
            source = transform_ipython(code)
        except Exception:  # IPython cannot make sense of it either: report the plain error
            source = code
        if source != code:
            line_map = map_lines(code, source)
        try:
            tree = _parse(source)
        except SyntaxError as err:
            return [syntax_finding(err, line_map)]
        except (ValueError, RecursionError, MemoryError) as exc:
            return [_unanalysable(exc)]
    checker = Checker(policy, source, line_map)
    try:
        findings = checker.run(tree)
    except RecursionError as exc:  # pragma: no cover - the traversal is iterative
        return [_unanalysable(exc)]
    unique = {(f.line, f.col, f.code, f.message): f for f in findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.col, f.code))


def _parse(source: str) -> ast.Module:
    # Invalid escape sequences warn at parse time; that is not the linter's business.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def _unanalysable(exc: BaseException) -> Finding:
    return Finding(
        "AF002",
        "error",
        1,
        1,
        f"Code cannot be analysed: {type(exc).__name__}: {str(exc)[:120]}.",
        RULES["AF002"].hint,
    )
