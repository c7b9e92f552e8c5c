"""Rule codes, severities and default hints; a finding and how findings are shown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..errors import AgentForgeError

TYPE_CHECKING = False  # `typing` is not imported at run time: `agentforge lint` starts faster
if TYPE_CHECKING:
    from typing import Literal

    Severity = Literal["error", "warning"]
else:
    Severity = str


@dataclass(frozen=True)
class Finding:
    """One problem in a piece of code. `line` and `col` are 1-based (col counts characters)."""

    code: str
    severity: Severity
    line: int
    col: int
    message: str
    hint: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    hint: str


class LintRejectedError(AgentForgeError):
    """Code was not run because the linter found errors; `findings` says why."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("Code rejected by the linter:\n" + format_findings(findings))


RULE_LIST = [
    Rule("AF001", "error", "Syntax error", "Fix the syntax; the cell must parse as Python 3."),
    Rule(
        "AF002",
        "error",
        "Code cannot be analysed",
        "Remove NUL bytes and reduce nesting depth; split the code into smaller functions.",
    ),
    Rule(
        "AF101",
        "error",
        "Import outside the allow-list",
        "Use pandas, numpy, scipy, sklearn, statsmodels, matplotlib, seaborn or safe standard "
        "modules (math, statistics, datetime, re, json, collections, itertools ...). The dataset "
        "is already loaded as `df`; files in the workspace are read with relative paths.",
    ),
    Rule(
        "AF102",
        "error",
        "Relative import",
        "There is no package around the cell; import allowed modules by absolute name.",
    ),
    Rule(
        "AF103",
        "error",
        "Import of a blocked submodule or name",
        "Import only the public analysis API (e.g. `import pandas as pd`); operating-system, "
        "native-code, network and pickle helpers re-exported by libraries are blocked.",
    ),
    Rule(
        "AF104",
        "error",
        "Star import",
        "Import the names you use explicitly (`from math import sqrt, log`) or import the module.",
    ),
    Rule(
        "AF105",
        "error",
        "Dynamic import",
        "Import modules with a plain `import` statement of an allowed module; importing by name "
        "at run time (import_module, 'module://' backends, plotting backends) is blocked.",
    ),
    Rule(
        "AF201",
        "error",
        "Dangerous builtin",
        "Write the computation directly: no eval/exec/compile/__import__, no globals()/locals()/"
        "vars(), no input()/breakpoint() (nobody can answer). If this is your own variable, "
        "rename it (e.g. `eval_set`).",
    ),
    Rule(
        "AF202",
        "error",
        "Dunder name",
        "Do not touch interpreter names such as __builtins__ or __loader__; use the objects "
        "directly.",
    ),
    Rule(
        "AF203",
        "warning",
        "Interactive helper",
        "exit()/quit() stop the kernel and lose all state; help() is for people. Leave them out.",
    ),
    Rule(
        "AF301",
        "error",
        "Dunder attribute",
        "Use public APIs instead of dunder attributes: type(x) or isinstance(x, T) instead of "
        "x.__class__, dir(x) or vars-free code instead of x.__dict__. Defining dunder methods "
        "in your own class is fine.",
    ),
    Rule(
        "AF302",
        "error",
        "Interpreter introspection",
        "Frames, code objects, tracebacks, gc and inspect are not needed for analysis; compute "
        "with the data directly.",
    ),
    Rule(
        "AF303",
        "error",
        "Attribute that reaches a blocked module",
        "Libraries re-export modules such as os, subprocess or ctypes (e.g. pd.io.common.os); "
        "use the analysis API only. If this is a DataFrame column, write df['name'] instead "
        "of df.name.",
    ),
    Rule(
        "AF304",
        "error",
        "Dynamic attribute access",
        "Use ordinary attribute access (obj.name) or a dict; getattr/setattr/delattr/hasattr and "
        "operator.attrgetter/methodcaller need a literal, non-dunder name.",
    ),
    Rule(
        "AF305",
        "error",
        "String that reaches interpreter internals",
        "Remove dunder or frame names from strings (format fields, query/eval/formula strings); "
        "format values explicitly, e.g. f'{type(x).__name__}'.",
    ),
    Rule(
        "AF306",
        "warning",
        "Format string built at run time",
        "Use an f-string or a literal format string; format fields can look up attributes.",
    ),
    Rule(
        "AF307",
        "error",
        "Formula built at run time from values that are not column names",
        "Formulas (statsmodels/patsy) are evaluated as Python: write a literal formula "
        "('y ~ x1 + x2'), or build it only from literals and df.columns: "
        "'y ~ ' + ' + '.join(df.columns.drop('y')).",
    ),
    Rule(
        "AF401",
        "error",
        "Shell escape",
        "Shell commands (!cmd, !!cmd) cannot run in the sandbox; use pandas/numpy for file and "
        "data work, with relative paths.",
    ),
    Rule(
        "AF402",
        "error",
        "IPython magic",
        "Magics (%cmd, %%cmd, obj?) are not allowed; write plain Python (time with "
        "time.perf_counter(), plots show without %matplotlib).",
    ),
    Rule(
        "AF403",
        "error",
        "get_ipython()",
        "Do not use the IPython shell object; write plain Python.",
    ),
    Rule(
        "AF501",
        "error",
        "Path outside the workspace",
        "Use a relative path inside the workspace, e.g. 'out.csv' or 'data/sales.csv'; absolute "
        "paths, '~' and '..' are rejected.",
    ),
    Rule(
        "AF502",
        "error",
        "open used as a value",
        "Call open('relative/path') directly so the path can be checked.",
    ),
    Rule(
        "AF503",
        "warning",
        "open() with a computed path",
        "Prefer a literal relative path; a computed path cannot be checked before running.",
    ),
    Rule(
        "AF504",
        "error",
        "Network address",
        "There is no network in the sandbox; use the dataset already loaded as `df` or files in "
        "the workspace.",
    ),
    Rule(
        "AF505",
        "warning",
        "Function that downloads data",
        "There is no network in the sandbox; use the dataset already loaded as `df`.",
    ),
    Rule(
        "AF506",
        "error",
        "Python or configuration file in a file API",
        "Write data files only (CSV, Parquet, JSON, PNG); .py/.pth/.so files, matplotlibrc and "
        ".mplstyle files would make later code run things that were never checked.",
    ),
    Rule(
        "AF601",
        "error",
        "Pickle deserialisation",
        "Pickle runs code while loading; read CSV, Parquet or JSON instead, and keep "
        "np.load(..., allow_pickle=False).",
    ),
    Rule(
        "AF701",
        "error",
        "Matplotlib setting that runs programs",
        "Only change styling settings (figure.figsize, font.size, axes.*, lines.*); settings "
        "that name programs, paths or TeX are blocked. Animations: use writer='pillow'.",
    ),
    Rule(
        "AF702",
        "warning",
        "Matplotlib feature that needs an external program",
        "The sandbox cannot start programs (ffmpeg, ImageMagick, LaTeX); use writer='pillow' "
        "for animations and the default Agg backend for figures.",
    ),
]

RULES: dict[str, Rule] = {r.code: r for r in RULE_LIST}


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding has severity 'error' (the code must not run)."""
    return any(f.severity == "error" for f in findings)


def format_findings(findings: Iterable[Finding]) -> str:
    """One line per finding, for a model to act on: `AF201 error 3:5 message Hint: ...`.

    Returns an empty string when there are no findings.
    """
    return "\n".join(
        f"{f.code} {f.severity} {f.line}:{f.col} {f.message} Hint: {f.hint}" for f in findings
    )
