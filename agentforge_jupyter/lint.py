"""AST linter for model-written analysis code: an early warning, not the security boundary.

The sandbox kernel is the boundary. This module rejects, before anything runs, code that would
try to leave it (imports of `os`, `eval`, dunder walks, pickle, shell escapes ...), and says in
each finding what to write instead, so a model can repair its own code. Rule codes are stable and
documented in docs/lint.md.

One pass over the tree: `_Checker` dispatches on node type from a dict, so a 200-line cell costs
one `ast.parse` plus one traversal.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import re
import string
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from typing import Any, Literal

from .errors import AgentForgeError

__all__ = [
    "RULES",
    "Finding",
    "LintPolicy",
    "LintRejectedError",
    "Rule",
    "default_policy",
    "format_findings",
    "has_errors",
    "lint",
]

Severity = Literal["error", "warning"]


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


_RULE_LIST = [
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
        "warning",
        "Formula built at run time",
        "Formulas (statsmodels/patsy) are evaluated as Python; prefer a literal formula or "
        "build it only from column names you have checked.",
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

RULES: dict[str, Rule] = {r.code: r for r in _RULE_LIST}


# --- policy ---------------------------------------------------------------------------------

DATA_SCIENCE_MODULES = (
    "pandas",
    "numpy",
    "scipy",
    "sklearn",
    "statsmodels",
    "matplotlib",
    "mpl_toolkits",
    "seaborn",
)

# Standard-library modules with no file-system, process, network or interpreter reach beyond
# what the rules below check. `time` is here for perf_counter/sleep (the sandbox watchdog bounds
# sleeps); `io` for StringIO/BytesIO (io.open is checked like open); `pathlib` because paths
# given to Path(...) are checked like any other file API.
SAFE_STDLIB_MODULES = (
    "__future__",
    "abc",
    "array",
    "bisect",
    "calendar",
    "cmath",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "io",
    "itertools",
    "json",
    "math",
    "numbers",
    "operator",
    "pathlib",
    "pprint",
    "random",
    "re",
    "statistics",
    "string",
    "textwrap",
    "time",
    "typing",
    "unicodedata",
    "warnings",
    "zoneinfo",
)

# Names a cell may read even though they are dunders.
SAFE_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__debug__"})

# Dunder attributes that cannot reach classes, globals or builtins. `__class__`, `__dict__`,
# `__globals__`, `__subclasses__`, `__getattribute__`, `__setitem__` (rcParams) and friends
# are deliberately absent.
SAFE_DUNDER_ATTRIBUTES = frozenset(
    {
        "__name__",
        "__qualname__",
        "__doc__",
        "__module__",
        "__version__",
        "__init__",
        "__new__",
        "__post_init__",
        "__len__",
        "__iter__",
        "__next__",
        "__contains__",
        "__getitem__",
        "__repr__",
        "__str__",
        "__format__",
        "__hash__",
        "__bool__",
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__add__",
        "__radd__",
        "__sub__",
        "__rsub__",
        "__mul__",
        "__rmul__",
        "__matmul__",
        "__truediv__",
        "__rtruediv__",
        "__floordiv__",
        "__rfloordiv__",
        "__mod__",
        "__pow__",
        "__neg__",
        "__pos__",
        "__abs__",
        "__invert__",
        "__and__",
        "__or__",
        "__xor__",
        "__round__",
        "__floor__",
        "__ceil__",
        "__enter__",
        "__exit__",
        "__copy__",
        "__deepcopy__",
        "__sizeof__",
        "__array__",
        "__array_priority__",
        "__all__",
        "__slots__",
    }
)


# Verified tools (docs/tools.md) are mounted in every sandbox as this package: importing them
# is importing code that already passed this linter and its own doctests.
TOOLS_PACKAGE = "agentforge_tools"


@cache
def _is_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class LintPolicy:
    """What the linter allows. Build with `default_policy()` or `LintPolicy.default()`.

    `allowed_imports` holds top-level module names (a submodule is allowed when its top-level
    package is). `extra_allowed_imports` adds to it and also unblocks attribute and import
    names equal to those modules (allowing `pickle` makes `np.lib.format.pickle` pointless to
    reject). `safe_dunder_attributes` / `safe_dunder_names` are the dunders that may be read.
    """

    allowed_imports: frozenset[str] = field(
        default_factory=lambda: frozenset(
            (
                *SAFE_STDLIB_MODULES,
                TOOLS_PACKAGE,
                *(m for m in DATA_SCIENCE_MODULES if _is_installed(m)),
            )
        )
    )
    extra_allowed_imports: frozenset[str] = frozenset()
    safe_dunder_attributes: frozenset[str] = SAFE_DUNDER_ATTRIBUTES
    safe_dunder_names: frozenset[str] = SAFE_DUNDER_NAMES
    workspace_dirs: frozenset[str] = frozenset({"/workspace"})

    @classmethod
    def default(cls, *, extra_allowed_imports: Iterable[str] = ()) -> LintPolicy:
        base = default_policy()
        return cls(
            allowed_imports=base.allowed_imports,
            extra_allowed_imports=frozenset(extra_allowed_imports),
        )

    def import_allowed(self, top: str) -> bool:
        return top in self.allowed_imports or top in self.extra_allowed_imports

    def unblocked(self, name: str) -> bool:
        return name in self.extra_allowed_imports


@lru_cache(maxsize=1)
def default_policy() -> LintPolicy:
    """The default policy: the data-science stack that is installed plus safe stdlib modules."""
    return LintPolicy()


# --- name tables ----------------------------------------------------------------------------

_OS = "the operating system (processes, environment, files)"
_NATIVE = "native code (ctypes, compiled extensions)"
_NET = "the network, which the sandbox does not have"
_PICKLE = "pickle, which runs code while loading"
_INTRO = "interpreter internals (frames, code objects, the garbage collector)"
_PROG = "an external program"
_IMPORT = "run-time imports by name"
_EXEC = "helpers that run strings or scripts as code"

# attribute name -> (rule code, what it reaches). Attribute names, not values: the linter does
# not know types, so `np.ctypeslib`, `pd.io.common.os` and `matplotlib.subprocess` are caught
# by name whatever alias the module has. Found by scanning the installed pandas, numpy,
# matplotlib, scipy, sklearn, statsmodels and seaborn for re-exported modules.
BLOCKED_ATTRIBUTES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "os",
            "sys",
            "_sys",
            "subprocess",
            "_posixsubprocess",
            "shutil",
            "platform",
            "sysconfig",
            "multiprocessing",
            "concurrent",
            "pty",
            "posix",
            "nt",
            "atexit",
            "pdb",
            "system",
            "popen",
            "Popen",
            "check_output",
            "check_call",
            "getoutput",
            "getstatusoutput",
            "fork",
            "forkpty",
            "execv",
            "execve",
            "execvp",
            "execvpe",
            "execl",
            "execle",
            "execlp",
            "execlpe",
            "spawnl",
            "spawnle",
            "spawnlp",
            "spawnv",
            "spawnve",
            "spawnvp",
            "spawnvpe",
            "posix_spawn",
            "posix_spawnp",
            "startfile",
            "environ",
            "environb",
            "getenv",
            "putenv",
            "unsetenv",
            "kill",
            "killpg",
            "_exit",
            "_executable_exists",
        ),
        ("AF303", _OS),
    ),
    **dict.fromkeys(
        (
            "ctypes",
            "_ctypes",
            "ctypeslib",
            "f2py",
            "distutils",
            "extbuild",
            "CDLL",
            "PyDLL",
            "cdll",
            "pydll",
            "windll",
            "oledll",
            "LoadLibrary",
            "dlopen",
            "load_library",
        ),
        ("AF303", _NATIVE),
    ),
    **dict.fromkeys(
        (
            "socket",
            "urllib",
            "urllib2",
            "urlopen",
            "urlretrieve",
            "webbrowser",
            "http",
            "httpx",
            "requests",
            "ftplib",
            "smtplib",
            "DataSource",
        ),
        ("AF303", _NET),
    ),
    **dict.fromkeys(
        (
            "builtins",
            "gc",
            "inspect",
            "traceback",
            "_getframe",
            "currentframe",
            "settrace",
            "setprofile",
            "addaudithook",
            "_current_frames",
            "get_objects",
            "get_referrers",
            "get_referents",
            "Formatter",
            "get_type_hints",
            "ForwardRef",
            "_eval_type",
            "singledispatch",
            "singledispatchmethod",
        ),
        ("AF302", _INTRO),
    ),
    **dict.fromkeys(
        (
            "pickle",
            "_pickle",
            "cPickle",
            "dill",
            "cloudpickle",
            "joblib",
            "_joblib",
            "marshal",
            "shelve",
            "read_pickle",
            "load_pickle",
            "Unpickler",
        ),
        ("AF601", _PICKLE),
    ),
    **dict.fromkeys(
        (
            "to_clipboard",
            "read_clipboard",
            "clipboard",
            "clipboards",
            "_get_executable_info",
            "dviread",
            "texmanager",
            "TexManager",
            "compare_images",
            "bin_path",
        ),
        ("AF303", _PROG),
    ),
    **dict.fromkeys(
        (
            "runstring",
            "sphinxext",
            "plot_directive",
            "run_code",
            "assert_run_python_script",
            "assert_run_python_script_without_output",
        ),
        ("AF201", _EXEC),
    ),
    **dict.fromkeys(
        (
            "importlib",
            "_importlib",
            "import_module",
            "import_optional_dependency",
            "pkgutil",
            "runpy",
            "load_module",
            "exec_module",
            "spec_from_file_location",
            "SourceFileLoader",
            "ExtensionFileLoader",
            "zipimport",
        ),
        ("AF105", _IMPORT),
    ),
}

# Frame, code, generator and traceback attributes: the classic way from any object to globals.
FRAME_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "ag_await",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "f_trace",
        "tb_frame",
        "tb_next",
        "co_code",
        "co_consts",
        "co_names",
        "func_globals",
        "func_code",
        "cell_contents",
    }
)

# Builtins that run code, reach namespaces or wait for a person, in any use (call or value).
DANGEROUS_BUILTINS = {
    "eval": "evaluates a string as code",
    "exec": "executes a string as code",
    "compile": "builds code objects from strings",
    "__import__": "imports modules by name",
    "globals": "exposes the namespace and builtins",
    "locals": "exposes the namespace",
    "vars": "exposes an object's namespace",
    "input": "waits for a person who is not there",
    "breakpoint": "starts a debugger nobody can drive",
}

INTERACTIVE_BUILTINS = {"exit", "quit", "help"}
GETATTR_FAMILY = frozenset({"getattr", "setattr", "delattr", "hasattr"})
ATTRGETTERS = frozenset({"attrgetter", "methodcaller"})
# Dunder names that must not even be assigned: they change how the namespace resolves names.
NAMESPACE_DUNDERS = frozenset(
    {"__builtins__", "__builtin__", "__import__", "__build_class__", "__loader__", "__spec__"}
)

# Call names (function or method) whose first argument (or a path keyword) is a file path.
FILE_APIS = frozenset(
    {
        "open",
        "open_code",
        "FileIO",
        "Path",
        "PurePath",
        "PosixPath",
        "WindowsPath",
        "get_handle",
        "ExcelWriter",
        "ExcelFile",
        "HDFStore",
        "load",
        "save",
        "savez",
        "savez_compressed",
        "loadtxt",
        "savetxt",
        "genfromtxt",
        "fromfile",
        "tofile",
        "memmap",
        "open_memmap",
        "fromregex",
        "savefig",
        "imread",
        "imsave",
        "loadmat",
        "savemat",
        "mmread",
        "mmwrite",
        "read_file",
        "glob",
        "iglob",
        "save_as",
    }
)
_PATH_KEYWORDS = frozenset(
    {
        "file",
        "fname",
        "filename",
        "path",
        "path_or_buf",
        "path_or_buffer",
        "filepath_or_buffer",
        "filepath",
        "io",
        "fp",
        "f",
        "excel_writer",
        "buf",
        "pathname",
    }
)
# Functions that fetch data over the network (warning: they fail in the sandbox).
NETWORK_HELPERS = frozenset({"load_dataset", "get_rdataset", "get_data_home"})

_PATH_STARTS = frozenset("/~.\\")
# Literal paths that name host locations, checked in every call (not only known file APIs).
_SENSITIVE_PATH_RE = re.compile(
    r"^(~[\w.-]*([\\/]|$)|\.\.([\\/]|$)|/(etc|proc|sys|dev|root|home|tmp|var|usr|bin|sbin|lib"
    r"|lib64|opt|run|mnt|srv|boot|media|data|work|workspace)([\\/]|$))"
)
# Files that later code would run or load as configuration (the workspace outlives a kernel
# restart, and matplotlib reads ./matplotlibrc at import).
_PYTHON_SUFFIXES = (
    ".py",
    ".pyc",
    ".pyw",
    ".pth",
    ".so",
    ".pyd",
    "matplotlibrc",
    ".mplstyle",
)
_URL_RE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*://")
_WIN_ABS_RE = re.compile(r"^[A-Za-z]:[\\/]")
_RC_DANGER_RE = re.compile(
    r"\b(animation\.(\w*_path|\w*_args|writer)|text\.usetex|text\.latex\.preamble"
    r"|pgf\.(texsystem|preamble)|ps\.usedistiller|savefig\.directory|webagg\.\w+)\b"
)
_RC_NAMES = frozenset({"rcParams", "rcParamsDefault", "rcParamsOrig"})
_RC_KWARGS = frozenset(
    {
        "ffmpeg_path",
        "convert_path",
        "ffmpeg_args",
        "convert_args",
        "writer",
        "usetex",
        "preamble",
        "texsystem",
        "usedistiller",
        "directory",
    }
)
_EXTERNAL_WRITERS = frozenset(
    {
        "ffmpeg",
        "ffmpeg_file",
        "imagemagick",
        "imagemagick_file",
        "FFMpegWriter",
        "FFMpegFileWriter",
        "ImageMagickWriter",
        "ImageMagickFileWriter",
    }
)
# Strings that name interpreter internals; in a literal they only make sense as an attack
# (format fields, getattr names, pandas query/eval and formula strings).
_INTERNAL_TOKEN_RE = re.compile(
    r"__(?:class|base|bases|mro|subclasses|globals|builtins?|import|code|closure|dict"
    r"|getattribute|getattr|setattr|loader|spec|reduce|reduce_ex|self|func|traceback"
    r"|defaults|kwdefaults|wrapped|init_subclass|subclasshook)__"
    r"|\b(?:gi_frame|gi_code|cr_frame|ag_frame|f_globals|f_locals|f_builtins|f_back|tb_frame"
    r"|tb_next|co_code|func_globals)\b"
)
_EXPR_ATTR_RE = re.compile(r"\.\s*([A-Za-z_]\w*)")
_EXPR_CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_EXPR_STRING_APIS = frozenset(
    {
        "query",
        "eval",
        "ols",
        "wls",
        "gls",
        "glm",
        "logit",
        "probit",
        "poisson",
        "negativebinomial",
        "mnlogit",
        "quantreg",
        "rlm",
        "mixedlm",
        "gee",
        "ordinal_gee",
        "nominal_gee",
        "phreg",
        "from_formula",
        "dmatrix",
        "dmatrices",
    }
)
_PANDAS_EVAL_METHODS = frozenset({"eval", "query"})
_DISPATCH_BY_NAME = frozenset(
    {"agg", "aggregate", "apply", "transform", "pipe", "map", "applymap", "resample_apply"}
)
_IPY_SHELL = frozenset({"system", "getoutput"})
_IPY_MAGIC = frozenset({"run_line_magic", "run_cell_magic", "magic", "run_magic"})
_FORMATTER = string.Formatter()

# Fast exits: most names, attributes and calls in analysis code match none of these.
_NAME_TRIGGERS = frozenset(
    {*DANGEROUS_BUILTINS, *GETATTR_FAMILY, *ATTRGETTERS, *INTERACTIVE_BUILTINS}
    | {"open", "get_ipython", "read_pickle", "load_pickle", "Unpickler"}
)
_ATTR_TRIGGERS = frozenset({*BLOCKED_ATTRIBUTES, *FRAME_ATTRIBUTES, *ATTRGETTERS, "measure"})
_CALL_TRIGGERS = frozenset(
    {*GETATTR_FAMILY, *ATTRGETTERS, *FILE_APIS, *_EXPR_STRING_APIS, *NETWORK_HELPERS}
    | _IPY_SHELL
    | _IPY_MAGIC
    | _EXTERNAL_WRITERS
    | {"format", "format_map", "load", "loads", "update", "setdefault", "_set", "rc"}
    | {"rc_context", "rc_file", "use", "switch_backend", "set_option", "option_context"}
    | {"context"}
    | {"save", "savefig", "print_figure"}
    | _DISPATCH_BY_NAME
)
_CALL_PREFIXES = ("read_", "to_", "fetch_")
# Names whose use as a value (not called) is itself a finding.
_VALUE_CHECKED = frozenset({*GETATTR_FAMILY, *ATTRGETTERS, "open"})


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _path_problem(path: str, workspace_dirs: frozenset[str] = frozenset()) -> str | None:
    """Why a literal path leaves the workspace, or None when it stays inside. Absolute paths
    inside `workspace_dirs` (the sandbox's working directory, `/workspace`) are fine."""
    p = path.strip()
    if not p:
        return None
    if ".." in re.split(r"[\\/]", p):
        return "contains '..'"
    if p.startswith(("/", "\\")) or _WIN_ABS_RE.match(p):
        if any(p == d or p.startswith(d.rstrip("/") + "/") for d in workspace_dirs):
            return None
        return "is absolute"
    if p.startswith("~"):
        return "starts with '~' (the home directory)"
    return None


def _rc_key_is_dangerous(key: str) -> bool:
    """True when the text names a dangerous setting: as a key, or inside a style/rc file."""
    return bool(_RC_DANGER_RE.search(key))


# --- the checker ----------------------------------------------------------------------------


class _Checker:
    """One pre-order traversal of the tree, dispatching on node type."""

    def __init__(self, policy: LintPolicy, source: str, line_map: list[int] | None) -> None:
        self.policy = policy
        self.source = source
        self._lines: list[str] | None = None  # split only when a finding needs a column
        self.line_map = line_map
        self.findings: list[Finding] = []
        self.called: set[int] = set()  # ids of nodes that are the `func` of a Call
        self.suppressed: set[int] = set()  # ids of nodes already reported by a parent
        self.aliases: dict[str, str] = {}  # local name -> module it was imported from

    # traversal ---------------------------------------------------------------------------
    def run(self, tree: ast.AST) -> list[Finding]:
        plans = _PLANS
        stack: list[ast.AST] = [tree]
        pop, push = stack.pop, stack.append
        Name, Constant, Attribute = ast.Name, ast.Constant, ast.Attribute
        name_triggers, attr_triggers = _NAME_TRIGGERS, _ATTR_TRIGGERS
        # Pre-order, in source order (children pushed in reverse), so imports are seen before
        # the code that uses their aliases and a Call before its `func`. Names and constants
        # that no rule can match are not pushed at all: they are most of the tree.
        while stack:
            node = pop()
            plan = plans.get(node.__class__)
            if plan is None:
                plan = _plan(node.__class__)
            handler, fields = plan
            if handler is not None:
                handler(self, node)
            for name in fields:
                value = getattr(node, name)
                if value is None:
                    continue
                for item in reversed(value) if value.__class__ is list else (value,):
                    item_cls = item.__class__
                    # Walk down `a.b.c` chains whose names no rule matches without pushing them.
                    while item_cls is Attribute and (
                        item.attr not in attr_triggers and item.attr[:2] != "__"
                    ):
                        item = item.value
                        item_cls = item.__class__
                    if item_cls is Name:
                        if item.id in name_triggers or item.id[:2] == "__":
                            push(item)
                    elif item_cls is Constant:
                        if item.value.__class__ is str and len(item.value) > 4:
                            push(item)
                    elif item is not None:  # Dict.keys holds None for **spread
                        push(item)
        return self.findings

    # reporting ---------------------------------------------------------------------------
    def report(self, code: str, node: ast.AST, message: str, hint: str | None = None) -> None:
        rule = RULES[code]
        line = getattr(node, "lineno", 1) or 1
        col = getattr(node, "col_offset", 0) or 0
        if self._lines is None:
            self._lines = self.source.splitlines()
        lines = self._lines
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if col and not text.isascii():
            # ast columns are UTF-8 byte offsets; findings count characters.
            col = len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        if self.line_map is not None and 0 < line <= len(self.line_map):
            line = self.line_map[line - 1]
        self.findings.append(
            Finding(code, rule.severity, line, col + 1, message, hint or rule.hint)
        )

    # attribute names (direct, via getattr/attrgetter, in match patterns) ---------------------
    def check_attr_name(self, name: str, node: ast.AST, how: str = "") -> bool:
        """Report a forbidden attribute name; True when something was reported."""
        if _is_dunder(name):
            if name in self.policy.safe_dunder_attributes:
                return False
            self.report(
                "AF301",
                node,
                f"Access to dunder attribute '{name}'{how} is not allowed: dunder attributes "
                "lead from any object to classes, globals and builtins.",
            )
            return True
        if name in FRAME_ATTRIBUTES:
            self.report(
                "AF302",
                node,
                f"Attribute '{name}'{how} reaches frames or code objects, and through them "
                "the globals of other code.",
            )
            return True
        blocked = BLOCKED_ATTRIBUTES.get(name)
        if blocked is not None and not self.policy.unblocked(name):
            code, reach = blocked
            self.report(code, node, f"Attribute '{name}'{how} reaches {reach}.")
            return True
        return False

    def check_string(self, text: str, node: ast.AST) -> None:
        # Every pattern below needs '_' (dunders, frame names) or '.' (format fields, rc keys).
        if "_" not in text and "." not in text:
            return
        match = _INTERNAL_TOKEN_RE.search(text)
        if match:
            self.report(
                "AF305",
                node,
                f"String contains '{match.group(0)}', an interpreter internal; as a format "
                "field, getattr name or query/eval string it escapes the analysis API.",
            )
            return
        if "{" in text and "." in text:
            self.check_format_fields(text, node)
        if ("@" in text or "(" in text) and "." in text:
            # Looks like an expression meant for query/eval/formulas: check its attributes.
            for attr in _EXPR_ATTR_RE.findall(text):
                if not _is_dunder(attr) and self.check_attr_name(attr, node, " in a string"):
                    return
        if "." in text:
            match = _RC_DANGER_RE.search(text)
            if match:
                self.report(
                    "AF701",
                    node,
                    f"Matplotlib setting '{match.group(0)}' names a program, a path or TeX.",
                )

    def check_format_fields(self, text: str, node: ast.AST) -> None:
        try:
            parsed = list(_FORMATTER.parse(text))
        except (ValueError, IndexError):
            return
        for _literal, field_name, _spec, _conv in parsed:
            if not field_name or "." not in field_name:
                continue
            for attr in _EXPR_ATTR_RE.findall(field_name):
                if self.check_attr_name(attr, node, " in a format field"):
                    return

    def check_expression_string(self, text: str, node: ast.AST) -> None:
        """pandas query/eval and formula strings are evaluated: check names in them."""
        for attr in _EXPR_ATTR_RE.findall(text):
            if self.check_attr_name(attr, node, " inside an evaluated string"):
                return
        for func in _EXPR_CALL_RE.findall(text):
            if func in DANGEROUS_BUILTINS or func in GETATTR_FAMILY or func == "open":
                self.report(
                    "AF305",
                    node,
                    f"Evaluated string calls '{func}', which is not allowed in analysis code.",
                )
                return

    # handlers ----------------------------------------------------------------------------
    def visit_import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module_path(alias.name, node)
            local = alias.asname or alias.name.split(".")[0]
            self.aliases[local] = alias.name if alias.asname else local

    def visit_import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.report(
                "AF102",
                node,
                f"Relative import 'from {'.' * node.level}{node.module or ''} import ...' is "
                "not allowed.",
            )
            return
        module = node.module or ""
        if not self.check_module_path(module, node):
            return
        for alias in node.names:
            if alias.name == "*":
                self.report("AF104", node, f"'from {module} import *' is not allowed.")
                continue
            self.check_imported_name(module, alias.name, node)
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            renamed = alias.asname is not None and alias.asname != alias.name
            if renamed and alias.name in _RC_NAMES:
                self.report_rc_alias(node)
            elif renamed and alias.name in ATTRGETTERS:
                self.report(
                    "AF304",
                    node,
                    f"'{alias.name}' imported under another name: its uses cannot be checked.",
                    f"Import it as '{alias.name}' and call it with literal names.",
                )

    def check_module_path(self, dotted: str, node: ast.AST) -> bool:
        parts = dotted.split(".")
        top = parts[0]
        if not self.policy.import_allowed(top):
            self.report(
                "AF101",
                node,
                f"Import of '{top}' is not allowed: it is not in the import allow-list.",
                _import_hint(top),
            )
            return False
        for part in parts[1:]:
            if not self.check_imported_name(dotted, part, node):
                return False
        if dotted == "matplotlib.testing" or dotted.startswith("matplotlib.testing."):
            self.report(
                "AF103",
                node,
                f"Import of '{dotted}' is not allowed: it runs external converters.",
            )
            return False
        return True

    def check_imported_name(self, module: str, name: str, node: ast.AST) -> bool:
        if _is_dunder(name) and name not in self.policy.safe_dunder_attributes:
            self.report("AF103", node, f"Import of '{name}' from '{module}' is not allowed.")
            return False
        blocked = BLOCKED_ATTRIBUTES.get(name)
        if name in FRAME_ATTRIBUTES:
            blocked = ("AF302", _INTRO)
        elif name in _PANDAS_EVAL_METHODS or (name == "measure" and "testing" in module):
            # a bare pandas eval/query or numpy.testing.measure hides that strings are evaluated
            blocked = ("AF103", _EXEC)
        if blocked is not None and not self.policy.unblocked(name):
            self.report(
                "AF103",
                node,
                f"Import of '{name}' from '{module}' is not allowed: it reaches {blocked[1]}.",
            )
            return False
        return True

    def visit_name(self, node: ast.Name) -> None:
        name = node.id  # run() only passes names in _NAME_TRIGGERS or starting with '__'
        if id(node) in self.suppressed:
            return
        is_load = not isinstance(node.ctx, ast.Store)
        reason = DANGEROUS_BUILTINS.get(name)
        if reason is not None:
            if is_load:
                self.report(
                    "AF201",
                    node,
                    f"Use of builtin '{name}' is not allowed (it {reason}), in a call or as a "
                    "value.",
                )
            return
        if _is_dunder(name):
            if name in NAMESPACE_DUNDERS or (is_load and name not in self.policy.safe_dunder_names):
                self.report("AF202", node, f"Use of the name '{name}' is not allowed.")
            return
        if not is_load:
            return
        if name in GETATTR_FAMILY or name in ATTRGETTERS:
            if id(node) not in self.called:
                self.report(
                    "AF304",
                    node,
                    f"'{name}' used as a value: the attribute name it will look up cannot be "
                    "checked.",
                )
        elif name == "open":
            if id(node) not in self.called:
                self.report("AF502", node, "'open' used as a value: its path cannot be checked.")
        elif name == "get_ipython":
            self.report("AF403", node, "get_ipython() is not allowed.")
        elif name in INTERACTIVE_BUILTINS:
            self.report("AF203", node, f"'{name}' is interactive or ends the kernel.")
        elif name in ("read_pickle", "load_pickle", "Unpickler"):
            self.report("AF601", node, f"'{name}' loads pickle data, which runs code.")

    def visit_attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name not in _ATTR_TRIGGERS and name[:2] != "__":
            return
        if id(node) in self.suppressed:
            return
        if self.check_attr_name(name, node):
            return
        if name == "measure":
            # numpy.testing.measure(code_str) executes a string; df.measure is a column.
            parent = node.value
            if parent.__class__ is ast.Attribute and parent.attr == "testing":
                self.report("AF201", node, "'testing.measure' runs a string as code.")
            return
        if name in ATTRGETTERS and id(node) not in self.called:
            self.report(
                "AF304", node, f"'{name}' used as a value: the names it looks up are unchecked."
            )

    def visit_constant(self, node: ast.Constant) -> None:
        # run() only passes str constants longer than 4 characters
        if id(node) not in self.suppressed:
            self.check_string(node.value, node)

    def visit_match_class(self, node: ast.AST) -> None:
        for attr in getattr(node, "kwd_attrs", ()):
            self.check_attr_name(attr, node, " in a match pattern")

    def visit_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name in ("bin_path", "_args"):
            self.report(
                "AF701",
                node,
                f"Defining '{node.name}' overrides the command a matplotlib animation writer runs.",
                "Do not subclass animation writers; use writer='pillow'.",
            )

    def visit_binop(self, node: ast.BinOp) -> None:
        # Path('data') / '../x' and Path('d') / '/etc/passwd' (an absolute right side wins).
        if isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    problem = _path_problem(side.value, self.policy.workspace_dirs)
                    if problem:
                        self.report("AF501", side, f"Path component {side.value!r} {problem}.")

    # assignments: rcParams writes and pandas plotting backend ------------------------------
    def visit_assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.check_store_target(target, node.value)
        if _is_rc_object(node.value):
            self.report_rc_alias(node.value)

    def visit_named_expr(self, node: ast.NamedExpr) -> None:
        if _is_rc_object(node.value):
            self.report_rc_alias(node.value)

    def visit_subscript(self, node: ast.Subscript) -> None:
        # Every store: assignments, for/with targets, augmented and annotated assignments.
        if node.ctx.__class__ is ast.Store and _is_rc_object(node.value):
            key = node.slice
            if not (key.__class__ is ast.Constant and isinstance(key.value, str)):
                self.report(
                    "AF701",
                    node,
                    "rcParams written with a computed key: the setting cannot be checked.",
                    "Write rcParams['figure.figsize'] = ... with a literal styling key.",
                )

    def report_rc_alias(self, node: ast.AST) -> None:
        self.report(
            "AF701",
            node,
            "rcParams bound to another name or passed to a function: writes through the "
            "alias cannot be checked.",
            "Write plt.rcParams['font.size'] = 12 (styling keys) directly.",
        )

    def visit_aug_assign(self, node: ast.AugAssign | ast.AnnAssign) -> None:
        if node.value is None:
            return
        target = node.target
        if isinstance(node, ast.AugAssign) and isinstance(target, ast.Name):
            if target.id in _RC_NAMES:  # rcParams |= {...}
                self.check_rc_mapping(node.value, target)
            return
        self.check_store_target(target, node.value)

    def check_store_target(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.check_store_target(elt, value)
            return
        if isinstance(target, ast.Attribute):
            if target.attr in _RC_NAMES:
                self.check_rc_mapping(value, target)
            elif target.attr == "backend" and _dotted(target).endswith("plotting.backend"):
                self.check_plotting_backend(value, target)

    def check_rc_mapping(self, value: ast.AST, where: ast.AST) -> None:
        """A mapping written into rcParams: every key must be a literal (dangerous literals
        are reported by the string check)."""
        if isinstance(value, ast.Dict):
            if any(k is None or not isinstance(k, ast.Constant) for k in value.keys):
                self.report(
                    "AF701", where, "rcParams updated with computed keys: cannot be checked."
                )
            return
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "dict"
            and not value.args
        ):
            for kw in value.keywords:
                if kw.arg is None:
                    self.report("AF701", where, "rcParams updated with **mapping: unchecked.")
            return
        self.report(
            "AF701",
            where,
            "rcParams updated from a computed mapping: the settings cannot be checked.",
            "Pass a literal dict of styling keys, e.g. rcParams.update({'font.size': 12}).",
        )

    def check_plotting_backend(self, value: ast.AST, where: ast.AST) -> None:
        if isinstance(value, ast.Constant) and value.value == "matplotlib":
            return
        self.report(
            "AF105",
            where,
            "Setting the pandas plotting backend imports a module by name.",
            "Leave the plotting backend at 'matplotlib'.",
        )

    # calls -------------------------------------------------------------------------------
    def visit_call(self, node: ast.Call) -> None:
        func = node.func
        func_cls = func.__class__
        if func_cls is ast.Attribute:
            fname = func.attr
            receiver = func.value
        elif func_cls is ast.Name:
            fname = func.id
            receiver = None
        else:
            fname, receiver = "", None
        if fname in _VALUE_CHECKED:
            self.called.add(id(func))  # getattr(...) / open(...) are calls, not values
        Constant = ast.Constant
        for arg in node.args:
            cls = arg.__class__
            if cls is Constant:
                value = arg.value
                if value.__class__ is str:
                    if "://" in value:
                        self.check_url(arg)
                    elif value[:1] in _PATH_STARTS and not _is_file_api(fname):
                        self.check_any_path(arg, value, fname)
            elif cls is ast.JoinedStr or cls is ast.BinOp:
                self.check_url(arg)
            elif (cls is ast.Attribute or cls is ast.Name) and _is_rc_object(arg):
                self.report_rc_alias(arg)
        if node.keywords:
            self.check_keywords(node, fname, receiver)
        if fname not in _CALL_TRIGGERS and not fname.startswith(_CALL_PREFIXES):
            return
        if receiver is not None and self.check_get_ipython(node, fname, receiver):
            self.suppressed.add(id(func))  # `.system` here is the shell escape already reported
            return
        if fname in GETATTR_FAMILY and receiver is None:
            self.check_getattr_call(node, fname)
        elif fname in ATTRGETTERS:
            self.check_attrgetter_call(node, fname)
        if _is_file_api(fname):
            self.check_file_call(node, fname, receiver)
        if fname in ("format", "format_map") and receiver is not None:
            if isinstance(receiver, (ast.BinOp, ast.JoinedStr, ast.Call)):
                self.report(
                    "AF306", node, "Format string built at run time: its fields are unchecked."
                )
        elif fname in _EXPR_STRING_APIS:
            self.check_expression_call(node, fname, receiver)
        elif fname in _DISPATCH_BY_NAME:
            self.check_dispatch_by_name(node, fname)
        elif fname in NETWORK_HELPERS or fname.startswith("fetch_"):
            self.report("AF505", node, f"'{fname}' downloads data over the network.")
        if fname in ("load", "loads"):
            self.check_load_call(node, fname, receiver)
        if receiver is not None and fname in ("update", "setdefault", "_set"):
            if _is_rc_object(receiver):
                self.check_rc_update(node)
        elif fname in ("rc", "rc_context", "rc_file"):
            self.check_rc_call(node, fname)
        elif fname in ("use", "switch_backend", "context") and node.args:
            if receiver is not None and _dotted(receiver).endswith("style"):
                self.check_style(node.args[0])
            elif fname != "context":
                self.check_backend_module(node.args[0])
        elif fname in ("set_option", "option_context"):
            self.check_set_option(node)
        if fname in ("save", "savefig", "print_figure"):
            self.check_external_writer(node)
        elif fname in _EXTERNAL_WRITERS:
            self.report("AF702", node, f"'{fname}' runs an external program.")

    def check_get_ipython(self, node: ast.Call, fname: str, receiver: ast.AST) -> bool:
        if not (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "get_ipython"
        ):
            return False
        self.suppressed.add(id(receiver.func))
        arg = _literal_str(node.args[0]) if node.args else None
        if fname in _IPY_SHELL:
            shown = f" '!{arg}'" if arg is not None else ""
            self.report("AF401", node, f"Shell escape{shown} is not allowed.")
        elif fname in _IPY_MAGIC:
            prefix = "%%" if fname == "run_cell_magic" else "%"
            shown = f" '{prefix}{arg}'" if arg is not None else ""
            self.report("AF402", node, f"IPython magic{shown} is not allowed.")
        else:
            self.report("AF403", node, f"get_ipython().{fname} is not allowed.")
        return True

    def check_getattr_call(self, node: ast.Call, fname: str) -> None:
        if len(node.args) < 2:
            if node.args and isinstance(node.args[0], ast.Starred):
                self.report("AF304", node, f"{fname}() with unpacked arguments is unchecked.")
            return
        name_arg = node.args[1]
        literal = _literal_str(name_arg)
        if literal is None:
            self.report(
                "AF304",
                node,
                f"{fname}() with a computed attribute name: the name cannot be checked.",
            )
            return
        self.suppressed.add(id(name_arg))
        if not self.check_attr_name(literal, name_arg, f" (via {fname})"):
            self.check_eval_method_name(literal, name_arg, fname)

    def check_attrgetter_call(self, node: ast.Call, fname: str) -> None:
        args = node.args[:1] if fname == "methodcaller" else node.args
        for arg in args:
            literal = _literal_str(arg)
            if literal is None:
                self.report(
                    "AF304", node, f"{fname}() with a computed name: the name cannot be checked."
                )
                return
            self.suppressed.add(id(arg))
            for part in literal.split("."):
                if self.check_attr_name(part, arg, f" (via {fname})"):
                    return
                if self.check_eval_method_name(part, arg, fname):
                    return

    def check_eval_method_name(self, name: str, node: ast.AST, fname: str) -> bool:
        if name not in _PANDAS_EVAL_METHODS:
            return False
        self.report(
            "AF305",
            node,
            f"'{name}' reached through {fname}(): it evaluates strings that cannot be checked.",
        )
        return True

    def check_file_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        path_nodes: list[ast.AST] = []
        if node.args:
            path_nodes.append(node.args[0])
        path_nodes.extend(kw.value for kw in node.keywords if kw.arg in _PATH_KEYWORDS)
        is_builtin_open = fname == "open" and receiver is None
        for arg in path_nodes:
            text = _leading_str(arg)
            if text is None:
                if is_builtin_open and arg is path_nodes[0] and not _is_non_str_literal(arg):
                    self.report("AF503", arg, "open() with a computed path cannot be checked.")
                continue
            if _URL_RE.match(text):
                continue  # reported by the URL check
            problem = _path_problem(text, self.policy.workspace_dirs)
            if problem:
                self.report("AF501", arg, f"Path {text!r} given to '{fname}' {problem}.")
            elif text.strip().lower().endswith(_PYTHON_SUFFIXES) and isinstance(arg, ast.Constant):
                self.report(
                    "AF506", arg, f"'{fname}' on {text!r}: Python or native-code file name."
                )

    def check_keywords(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        """URLs in keyword values, allow_pickle that is not literally False, TeX and plotting
        backends chosen per call."""
        for kw in node.keywords:
            value = kw.value
            cls = value.__class__
            if (
                cls is ast.JoinedStr
                or cls is ast.BinOp
                or (cls is ast.Constant and value.value.__class__ is str and "://" in value.value)
            ):
                self.check_url(value)
            arg = kw.arg
            if arg == "allow_pickle" and not _is_false(value):
                self.report(
                    "AF601",
                    value,
                    "allow_pickle that is not literally False lets the file run code on load.",
                )
            elif arg == "usetex" and not _is_false(value):
                self.report("AF702", value, "usetex=True runs LaTeX, which the sandbox lacks.")
            elif arg == "backend" and (
                fname == "plot" or (receiver.__class__ is ast.Attribute and receiver.attr == "plot")
            ):
                self.check_plotting_backend(value, value)

    def check_any_path(self, arg: ast.AST, value: str, fname: str) -> None:
        """A literal host path given to any call (sklearn loaders, scipy.io ...)."""
        if _SENSITIVE_PATH_RE.match(value) and _path_problem(value, self.policy.workspace_dirs):
            self.report(
                "AF501",
                arg,
                f"Path {value!r} given to '{fname or 'a call'}' is outside the workspace.",
            )

    def check_load_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        if fname == "load" and len(node.args) >= 3 and not _is_false(node.args[2]):
            self.report("AF601", node.args[2], "np.load with allow_pickle set positionally.")
        if isinstance(receiver, ast.Name):
            module = self.aliases.get(receiver.id, "")
            top = module.split(".")[0]
            if top in ("statsmodels", "joblib", "pickle", "dill") and not self.policy.unblocked(
                top
            ):
                self.report("AF601", node, f"'{receiver.id}.{fname}' unpickles its input.")

    def check_url(self, arg: ast.AST) -> None:
        text = _leading_str(arg)
        if text is None or "://" not in text:
            return
        match = _URL_RE.match(text)
        if match is None:
            return
        scheme = text.strip().split("://", 1)[0].lower()
        if scheme == "module":
            self.report("AF105", arg, f"{text!r} imports a module by name.")
        else:
            self.report("AF504", arg, f"Network address {text[:60]!r} cannot be reached.")

    def check_expression_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        """pandas eval/query strings may look up attributes and call methods (`@pd.io...`);
        formula strings (statsmodels/patsy) are evaluated as Python."""
        if fname == "eval" and receiver is None:
            return  # the builtin: AF201 already
        pandas_eval = fname in _PANDAS_EVAL_METHODS
        nodes = list(node.args[:1])
        nodes.extend(kw.value for kw in node.keywords if kw.arg in ("expr", "formula"))
        for arg in nodes:
            cls = arg.__class__
            if cls is ast.Constant and isinstance(arg.value, str):
                self.check_expression_string(arg.value, arg)
            elif cls is ast.JoinedStr:
                parts = arg.values
                for i, part in enumerate(parts):
                    if not (part.__class__ is ast.Constant and isinstance(part.value, str)):
                        continue
                    self.check_expression_string(part.value, part)
                    text = part.value.rstrip()
                    follows_value = i > 0 and part.value[:1] in (".", "(")
                    if pandas_eval and (text.endswith((".", "@")) or follows_value):
                        self.report(
                            "AF305",
                            part,
                            f"'{fname}' string assembles a name from a run-time value: the "
                            "attribute it reaches cannot be checked.",
                            "Interpolate values, not names: df.query('x > @limit'), or use "
                            "boolean indexing df[df['x'] > limit].",
                        )
                        break
            elif pandas_eval:
                self.report(
                    "AF305",
                    arg,
                    f"'{fname}' with a string computed at run time: pandas evaluates it and it "
                    "can reach any attribute.",
                    "Pass a literal expression (df.query('x > @limit')) or use boolean "
                    "indexing df[df['x'] > limit].",
                )
            else:
                self.report(
                    "AF307",
                    arg,
                    f"Formula for '{fname}' built at run time: it is evaluated as Python and "
                    "cannot be checked.",
                )

    def check_dispatch_by_name(self, node: ast.Call, fname: str) -> None:
        """df.agg('eval', ...) / df.apply('query') call a method named by a string."""
        if node.args:
            name = _literal_str(node.args[0])
            if name in _PANDAS_EVAL_METHODS:
                self.report(
                    "AF305",
                    node.args[0],
                    f"'{fname}' called with the method name {name!r}: it evaluates strings.",
                )

    def check_rc_update(self, node: ast.Call) -> None:
        if node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                if len(node.args) < 2 or not isinstance(first.value, str):
                    self.check_rc_mapping(first, node)
                # setdefault/_set with a literal key: the string check covers the key
            else:
                self.check_rc_mapping(first, node)
        for kw in node.keywords:
            if kw.arg is None:
                self.report("AF701", node, "rcParams updated with **mapping: unchecked.")

    def check_rc_call(self, node: ast.Call, fname: str) -> None:
        if fname == "rc_file":
            self.report("AF701", node, "rc_file() loads settings from a file, unchecked.")
            return
        if fname == "rc_context":
            for kw in node.keywords:
                if kw.arg == "fname":
                    self.report("AF701", node, "rc_context(fname=...) loads settings from a file.")
                elif kw.arg in ("rc", None):
                    self.check_rc_mapping(kw.value, node)
            if node.args and not _is_none(node.args[0]):
                self.check_rc_mapping(node.args[0], node)
            if len(node.args) > 1 and not _is_none(node.args[1]):
                self.report("AF701", node, "rc_context(fname) loads settings from a file.")
            return
        # rc(group, **kwargs): the key is group + '.' + kwarg name.
        groups: list[str] | None = None
        if node.args:
            group = node.args[0]
            if isinstance(group, ast.Constant) and isinstance(group.value, str):
                groups = [group.value]
            elif isinstance(group, (ast.Tuple, ast.List)):
                literal = [_literal_str(e) for e in group.elts]
                groups = None if None in literal else [g for g in literal if g]
        for kw in node.keywords:
            if kw.arg is None:
                self.report("AF701", node, "rc() with **mapping: the settings are unchecked.")
                continue
            keys = [f"{g}.{kw.arg}" for g in groups] if groups is not None else []
            if kw.arg in _RC_KWARGS or any(_rc_key_is_dangerous(k) for k in keys):
                shown = keys[0] if keys else kw.arg
                self.report(
                    "AF701", kw.value, f"Matplotlib setting '{shown}' names a program or TeX."
                )

    def check_style(self, arg: ast.AST) -> None:
        """plt.style.use: named styles and dicts are fine; style files from paths can set
        animation program paths (matplotlib does not filter those keys)."""
        items = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
        for item in items:
            if isinstance(item, ast.Dict):
                self.check_rc_mapping(item, item)
                continue
            text = _literal_str(item)
            if text is None or "/" in text or "\\" in text or text.endswith(".mplstyle"):
                self.report(
                    "AF701",
                    item,
                    "Style loaded from a file or a computed name: its settings are unchecked.",
                    "Use a built-in style by name (plt.style.use('ggplot')) or a literal dict "
                    "of styling keys.",
                )

    def check_backend_module(self, arg: ast.AST) -> None:
        text = _literal_str(arg)
        if text is not None and text.startswith("module://"):
            self.report("AF105", arg, f"Backend {text!r} imports a module by name.")

    def check_set_option(self, node: ast.Call) -> None:
        args = node.args
        for i in range(0, len(args) - 1, 2):
            key = _literal_str(args[i])
            if key is None:
                self.report(
                    "AF105",
                    args[i],
                    "pandas option set with a computed name: it could be 'plotting.backend', "
                    "which imports a module by name.",
                    "Use literal option names, e.g. pd.set_option('display.max_rows', 50).",
                )
            elif key.endswith("plotting.backend"):
                self.check_plotting_backend(args[i + 1], args[i])

    def check_external_writer(self, node: ast.Call) -> None:
        for kw in node.keywords:
            if kw.arg == "writer":
                text = _literal_str(kw.value)
                if text in _EXTERNAL_WRITERS:
                    self.report("AF702", kw.value, f"Animation writer {text!r} runs a program.")
            elif kw.arg == "backend" and _literal_str(kw.value) == "pgf":
                self.report("AF702", kw.value, "The pgf backend runs LaTeX.")


# Fields that never hold AST nodes (or hold nodes that a parent handler reads itself, such
# as the aliases of an import); the traversal does not look at them.
_NON_NODE_FIELDS = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "type_comment",
        "id",
        "attr",
        "kind",
        "arg",
        "module",
        "name",
        "names",
        "asname",
        "level",
        "conversion",
        "is_async",
        "kwd_attrs",
        "rest",
        "tag",
        "simple",
        "lineno",
    }
)
_HANDLERS: dict[type, Callable[[_Checker, Any], None]] = {
    ast.Import: _Checker.visit_import,
    ast.ImportFrom: _Checker.visit_import_from,
    ast.Name: _Checker.visit_name,
    ast.Attribute: _Checker.visit_attribute,
    ast.Call: _Checker.visit_call,
    ast.Constant: _Checker.visit_constant,
    ast.Assign: _Checker.visit_assign,
    ast.AugAssign: _Checker.visit_aug_assign,
    ast.AnnAssign: _Checker.visit_aug_assign,
    ast.BinOp: _Checker.visit_binop,
    ast.Subscript: _Checker.visit_subscript,
    ast.NamedExpr: _Checker.visit_named_expr,
    ast.FunctionDef: _Checker.visit_def,
    ast.AsyncFunctionDef: _Checker.visit_def,
}
if hasattr(ast, "MatchClass"):
    _HANDLERS[ast.MatchClass] = _Checker.visit_match_class
_Plan = tuple["Callable[[_Checker, Any], None] | None", tuple[str, ...]]
# node class -> (handler, fields to descend into, in reverse order)
_PLANS: dict[type, _Plan] = {}


_LEAVES = (ast.Constant, ast.Name, getattr(ast, "MatchSingleton", ast.Constant))


def _plan(cls: type) -> _Plan:
    if cls in _LEAVES or not issubclass(cls, ast.AST):
        # A value that is not a node (a field this table does not know yet) is skipped.
        fields: tuple[str, ...] = ()
    else:
        fields = tuple(f for f in reversed(cls._fields) if f not in _NON_NODE_FIELDS)
    plan = _PLANS[cls] = (_HANDLERS.get(cls), fields)
    return plan


def _is_file_api(fname: str) -> bool:
    return fname in FILE_APIS or fname.startswith(("read_", "to_"))


def _is_rc_object(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in _RC_NAMES
    return isinstance(node, ast.Name) and node.id in _RC_NAMES


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _literal_str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _leading_str(node: ast.AST) -> str | None:
    """The literal text a string expression starts with: 'x', f'x{y}', 'x' + y, Path('x')."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _leading_str(node.left)
    return None


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None, 0)


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_non_str_literal(node: ast.AST) -> bool:
    # open(3) (a file descriptor) is a literal that is not a path: nothing to warn about.
    return isinstance(node, ast.Constant) and not isinstance(node.value, str)


_IMPORT_HINTS = {
    "os": "For paths use relative strings (pandas reads 'data/x.csv'); there is no shell. "
    "The dataset is already loaded as `df`.",
    "sys": "Nothing in sys is needed for analysis; print() writes to the output.",
    "subprocess": "The sandbox cannot start programs; do the work in pandas/numpy.",
    "pickle": "Exchange data as CSV, Parquet or JSON (pd.read_parquet / df.to_parquet).",
    "joblib": "Exchange data as CSV, Parquet or JSON (pd.read_parquet / df.to_parquet).",
    "requests": "There is no network in the sandbox; use the dataset already loaded as `df`.",
    "urllib": "There is no network in the sandbox; use the dataset already loaded as `df`.",
    "socket": "There is no network in the sandbox; use the dataset already loaded as `df`.",
    "importlib": "Use a plain `import` of an allowed module.",
    "shutil": "Write files with pandas (df.to_csv('out.csv')); no file-system management.",
    "glob": "List the files you need explicitly with relative paths.",
}


def _import_hint(top: str) -> str:
    return _IMPORT_HINTS.get(top, RULES["AF101"].hint)


# --- entry points ---------------------------------------------------------------------------


def _transform_ipython(code: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)


def _line_map(original: str, transformed: str) -> list[int]:
    """For each transformed line, the 1-based original line it came from."""
    orig = [line.strip() for line in original.splitlines()]
    new = [line.strip() for line in transformed.splitlines()]
    mapping = [1] * len(new)
    last = max(len(orig), 1)
    matcher = difflib.SequenceMatcher(None, orig, new, autojunk=False)
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k, j in enumerate(range(j1, j2)):
            source = min(i1 + k, i2 - 1) if i2 > i1 else i1
            mapping[j] = min(source + 1, last)
    return mapping


def _syntax_finding(err: SyntaxError, line_map: list[int] | None) -> Finding:
    line = err.lineno or 1
    if line_map is not None and 0 < line <= len(line_map):
        line = line_map[line - 1]
    message = f"Syntax error: {err.msg}."
    if err.text:
        message += f" Line: {err.text.strip()[:80]!r}"
    return Finding("AF001", "error", line, max(err.offset or 1, 1), message, RULES["AF001"].hint)


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
            source = _transform_ipython(code)
        except Exception:  # IPython cannot make sense of it either: report the plain error
            source = code
        if source != code:
            line_map = _line_map(code, source)
        try:
            tree = _parse(source)
        except SyntaxError as err:
            return [_syntax_finding(err, line_map)]
        except (ValueError, RecursionError, MemoryError) as exc:
            return [_unanalysable(exc)]
    checker = _Checker(policy, source, line_map)
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
