"""Names, attributes and the getattr family: dangerous builtins, dunders, attributes that
reach blocked modules (lint/names.py, tables.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, lint

from .lint_support import codes, only

# --- builtins and names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "col"),
    [
        ("eval('1')", 1),
        ("x = exec", 5),
        ("y = compile('1', 'f', 'eval')", 5),
        ("m = __import__('math')", 5),
        ("g = globals()", 5),
        ("l = locals()", 5),
        ("v = vars(x)", 5),
        ("a = input()", 5),
        ("breakpoint()", 1),
        ("s.apply(eval)", 9),
    ],
)
def test_dangerous_builtins(code: str, col: int) -> None:
    f = only(code)
    assert (f.code, f.line, f.col) == ("AF201", 1, col)


def test_dangerous_builtin_may_be_bound_but_not_read() -> None:
    # Binding the name is harmless; reading it cannot be told apart from the builtin.
    assert lint("input = 3\n") == []
    assert codes("input = 3\nprint(input)\n") == {"AF201"}


@pytest.mark.parametrize(
    "code", ["__builtins__['eval']", "x = __loader__", "__builtins__ = {}", "__spec__"]
)
def test_dunder_names(code: str) -> None:
    assert only(code).code == "AF202"


def test_safe_dunder_names_pass() -> None:
    assert lint("if __name__ == '__main__':\n    print(__doc__)\n") == []


@pytest.mark.parametrize("code", ["exit()", "quit()", "help(pd.DataFrame)"])
def test_interactive_helpers_warn(code: str) -> None:
    f = only(code)
    assert (f.code, f.severity) == ("AF203", "warning")


# --- attributes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule", "col"),
    [
        ("t = x.__class__", "AF301", 5),
        ("d = np.__dict__", "AF301", 5),
        ("b = pd.__builtins__", "AF301", 5),
        ("o = object.__subclasses__()", "AF301", 5),
        ("g = f.__globals__", "AF301", 5),
        ("x.__getattribute__('y')", "AF301", 1),
        ("plt.rcParams.__setitem__('font.size', 3)", "AF301", 1),
        ("fr = gen.gi_frame", "AF302", 6),
        ("c = fn.co_code", "AF302", 5),
        ("tb = err.tb_frame", "AF302", 6),
        ("b = frame.f_back", "AF302", 5),
        ("x = pd.io.common.os", "AF303", 5),
        ("x = np.ctypeslib", "AF303", 5),
        ("x = matplotlib.subprocess", "AF303", 5),
        ("x = np.lib.format.pickle", "AF601", 5),
        ("x = np.f2py", "AF303", 5),
        ("x = seaborn.utils.urlopen", "AF303", 5),
        ("x = pd.core.common.inspect", "AF302", 5),
        ("x = sklearn.utils._importlib", "AF105", 5),
    ],
)
def test_attribute_rules(code: str, rule: str, col: int) -> None:
    f = only(code)
    assert (f.code, f.line, f.col) == (rule, 1, col)


def test_attribute_hint_mentions_column_access() -> None:
    assert "df['name']" in only("df.os.value_counts()").hint
    assert lint("df['os'].value_counts()") == []


@pytest.mark.parametrize(
    "code",
    [
        "print(f.__name__, f.__doc__, C.__qualname__, np.__version__)",
        "class A:\n    def __init__(self, x):\n        self.x = x\n"
        "    def __len__(self):\n        return 1\n    def __repr__(self):\n        return 'A'\n",
        "class B(A):\n    def __init__(self):\n        super().__init__(1)\n",
        "n = len(x) if hasattr(x, '__len__') else 0",
    ],
)
def test_harmless_dunders_pass(code: str) -> None:
    assert lint(code) == []


# --- getattr family -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("getattr(pd, name)", "AF304"),
        ("getattr(x, 'o' + 's')", "AF304"),
        ("setattr(obj, key, 1)", "AF304"),
        ("delattr(obj, key)", "AF304"),
        ("hasattr(x, '__cl' + 'ass__')", "AF304"),
        ("g = getattr", "AF304"),
        ("getattr(x, '__class__')", "AF301"),
        ("getattr(g, 'gi_frame')", "AF302"),
        ("getattr(pd.io.common, 'os')", "AF303"),
        ("operator.attrgetter('__class__')", "AF301"),
        ("operator.attrgetter('io.common.os')", "AF303"),
        ("operator.attrgetter(name)", "AF304"),
        ("operator.methodcaller('__subclasses__')", "AF301"),
        ("from operator import attrgetter as ag", "AF304"),
    ],
)
def test_getattr_rules(code: str, rule: str) -> None:
    assert codes(code) == {rule}, format_findings(lint(code))


def test_getattr_literal_position() -> None:
    f = only("y = getattr(x, '__class__')")
    assert (f.code, f.line, f.col) == ("AF301", 1, 16)


def test_getattr_with_literal_name_passes() -> None:
    assert lint("v = getattr(model, 'coef_', None)\nok = hasattr(df, 'plot')\n") == []
