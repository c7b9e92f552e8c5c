"""What may be imported: the allow-lists and `LintPolicy`."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

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
