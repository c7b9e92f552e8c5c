"""The AST linter: every rule, DS-1000 references, the escape corpus and our own variants."""

from __future__ import annotations

import ast
import gzip
import json
import textwrap
import warnings
from pathlib import Path

import pytest

from agentforge_jupyter.lint import (
    RULES,
    Finding,
    LintPolicy,
    LintRejectedError,
    default_policy,
    format_findings,
    has_errors,
    lint,
)

from .conftest import require, shared_dir
from .lint_samples import REALISTIC_CELL


def codes(code: str, policy: LintPolicy | None = None) -> set[str]:
    return {f.code for f in lint(code, policy) if f.severity == "error"}


def only(code: str) -> Finding:
    findings = lint(code)
    assert len(findings) == 1, format_findings(findings)
    return findings[0]


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


# --- imports --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule", "col"),
    [
        ("import os", "AF101", 1),
        ("x = 1; import subprocess as sp", "AF101", 8),
        ("from os import path", "AF101", 1),
        ("import os.path", "AF101", 1),
        ("import yaml", "AF101", 1),
        ("from . import helpers", "AF102", 1),
        ("from ..pkg import x", "AF102", 1),
        ("import numpy.ctypeslib", "AF103", 1),
        ("from numpy import ctypeslib", "AF103", 1),
        ("from pandas.io.common import os", "AF103", 1),
        ("from pandas.io.common import urlopen", "AF103", 1),
        ("from matplotlib.testing.compare import compare_images", "AF103", 1),
        ("from sklearn.utils import _joblib", "AF103", 1),
        ("from numpy import *", "AF104", 1),
    ],
)
def test_import_rules(code: str, rule: str, col: int) -> None:
    f = only(code)
    assert (f.code, f.line, f.col) == (rule, 1, col)


@pytest.mark.parametrize(
    "code",
    [
        "import pandas as pd",
        "import numpy as np",
        "import matplotlib.pyplot as plt",
        "from scipy import stats",
        "from scipy.stats import linregress",
        "import statsmodels.api as sm",
        "import statsmodels.formula.api as smf",
        "from sklearn.linear_model import LinearRegression",
        "import seaborn as sns",
        "from mpl_toolkits.mplot3d import Axes3D",
        "import math, statistics, datetime, itertools, collections, re, json, textwrap",
        "from collections import Counter, defaultdict",
        "from datetime import datetime, timedelta",
        "from __future__ import annotations",
        "from io import StringIO",
        "from pathlib import Path",
        "import time",
    ],
)
def test_allowed_imports_pass(code: str) -> None:
    assert lint(code) == []


def test_import_hint_is_specific() -> None:
    f = only("import os")
    assert "df" in f.hint and "relative" in f.hint


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


# --- strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("print('{0.__class__.__mro__}'.format(1))", "AF305"),
        ("t = '{0.gi_frame.f_globals}'", "AF305"),
        ("'{0.io.common.os.environ}'.format(pd)", "AF303"),
        ("df.query('@pd.io.common.os.system(\"x\")')", "AF303"),
        ("smf.ols(\"y ~ __import__('os').system('x')\", data=df)", "AF305"),
        ("pd.eval('eval(\"1\")')", "AF305"),
    ],
)
def test_string_rules(code: str, rule: str) -> None:
    assert rule in codes(code), format_findings(lint(code))


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("df.query(cond)", "AF305"),
        ("pd.eval(expr)", "AF305"),
        ("df.eval('a' + b)", "AF305"),
        ("df.query(f'@pd.io.common.{name}.system(1)')", "AF305"),
        ("df.agg('eval', s)", "AF305"),
        ("getattr(df, 'eval')(s)", "AF305"),
        ("operator.methodcaller('query', s)(df)", "AF305"),
        ("x = '@pd.io.common.os.system(1)'", "AF303"),
        ("from pandas import eval as pe", "AF103"),
        ("np.testing.runstring(s, {})", "AF201"),
        ("np.testing.measure(s)", "AF201"),
        ("from numpy.testing import measure", "AF103"),
        ("from matplotlib.sphinxext.plot_directive import run_code", "AF103"),
        ("from functools import singledispatch", "AF103"),
    ],
)
def test_evaluated_string_rules(code: str, rule: str) -> None:
    assert rule in codes(code), format_findings(lint(code))


def test_pandas_query_with_values_passes() -> None:
    code = (
        "a = df.query('x > @limit and region == \"North\"')\n"
        "b = df.query('revenue > @threshold')\n"
        "c = df.eval('total = units * price')\n"
        "d = df.measure.mean()\n"
    )
    assert lint(code) == [], format_findings(lint(code))


def test_formula_built_at_run_time_is_an_error() -> None:
    f = only("m = smf.ols('y ~ ' + ' + '.join(cols), data=df)")
    assert (f.code, f.severity) == ("AF307", "error")


def test_format_string_built_at_run_time_warns() -> None:
    f = only("('{0.__cl' + 'ass__}').format(1)")
    assert (f.code, f.severity) == ("AF306", "warning")


def test_plain_format_strings_pass() -> None:
    code = "s = '{:.2f} {name}'.format(1.5, name='x')\nt = '{0[1]}_{0[0]}'.format\n"
    assert lint(code) == []


# --- files and network ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule", "col"),
    [
        ("open('/etc/passwd')", "AF501", 6),
        ("open('../secret.txt')", "AF501", 6),
        ("open('~/.ssh/id_rsa')", "AF501", 6),
        ("pd.read_csv('/etc/passwd', sep=':')", "AF501", 13),
        ("df.to_csv('data/../../x.csv')", "AF501", 11),
        ("np.save(file='/tmp/x.npy', arr=a)", "AF501", 14),
        ("plt.savefig(f'/tmp/{name}.png')", "AF501", 13),
        ("p = Path('data') / '..' / 'x'", "AF501", 20),
        ("p = Path('/etc')", "AF501", 10),
        ("f = open", "AF502", 5),
        ("pd.read_csv('https://example.com/x.csv')", "AF504", 13),
        ("pd.read_parquet('s3://bucket/key')", "AF504", 17),
        ("x = np.loadtxt('ftp://host/x.txt')", "AF504", 16),
        ("f('file:///etc/passwd')", "AF504", 3),
        ("open('evil.py', 'w')", "AF506", 6),
        ("df.to_csv('sitecustomize.py')", "AF506", 11),
    ],
)
def test_file_and_network_rules(code: str, rule: str, col: int) -> None:
    found = [f for f in lint(code) if f.code == rule]
    assert found, format_findings(lint(code))
    assert (found[0].line, found[0].col) == (1, col)


@pytest.mark.parametrize(
    "code",
    [
        "X, y = load_svmlight_file('/etc/passwd')",
        "m = mmread('~/matrix.mtx')",
        "d = scipy.io.loadmat('../outside.mat')",
        "z = some_loader('/proc/self/environ')",
    ],
)
def test_host_paths_in_any_call(code: str) -> None:
    assert codes(code) == {"AF501"}, format_findings(lint(code))


def test_absolute_paths_inside_the_workspace_pass() -> None:
    assert lint("pd.read_csv('/workspace/data/sales.csv')") == []
    assert codes("pd.read_csv('/workspace/../etc/passwd')") == {"AF501"}
    assert codes("open('/workspace2/x')") == {"AF501"}
    assert lint("s.str.replace('/kg', '')\nt = s.str.split('/')") == []


def test_open_with_computed_path_warns() -> None:
    f = only("with open(path) as fh:\n    pass\n")
    assert (f.code, f.severity, f.line, f.col) == ("AF503", "warning", 1, 11)


def test_network_helpers_warn() -> None:
    assert [f.code for f in lint("sns.load_dataset('tips')")] == ["AF505"]
    assert [f.code for f in lint("fetch_openml('iris')")] == ["AF505"]


@pytest.mark.parametrize(
    "code",
    [
        "df = pd.read_csv('data/x.csv')",
        "df.to_csv('out.csv', index=False)",
        "open('out.csv', 'w').write('a,b\\n')",
        "plt.savefig('chart.png', dpi=120)",
        "np.save('arr.npy', a)\nb = np.load('arr.npy')",
        "p = Path('data') / 'x.csv'",
        "df.to_parquet(f'out_{i}.parquet')",
        "s = pd.to_datetime('2019/01/01')",
        "x = a / b\ny = '1/2'.split('/')",
    ],
)
def test_workspace_file_use_passes(code: str) -> None:
    assert lint(code) == [], format_findings(lint(code))


# --- pickle ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "col"),
    [
        ("pd.read_pickle('x.pkl')", 1),
        ("from pandas import read_pickle", 1),
        ("np.load('x.npy', allow_pickle=True)", 31),
        ("np.load('x.npy', allow_pickle=flag)", 31),
        ("np.load('x.npy', None, True)", 24),
        ("np.lib.format.read_array(f, allow_pickle=True)", 42),
        ("import statsmodels.api as sm\nm = sm.load('m.pickle')", 5),
    ],
)
def test_pickle_rules(code: str, col: int) -> None:
    found = [f for f in lint(code) if f.code in ("AF601", "AF103")]
    assert found, format_findings(lint(code))
    assert found[-1].col == col


def test_np_load_without_pickle_passes() -> None:
    assert lint("a = np.load('a.npy')\nb = np.load('b.npy', allow_pickle=False)\n") == []


# --- matplotlib -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "plt.rcParams['animation.ffmpeg_path'] = '/usr/bin/touch'",
        "mpl.rcParams['animation.convert_path'] = 'x'",
        "plt.rcParams.update({'text.usetex': True})",
        "plt.rc('text', usetex=True)",
        "mpl.rc('animation', ffmpeg_path='x')",
        "with plt.rc_context({'pgf.texsystem': 'x'}):\n    pass",
        "plt.rcParams[key] = value",
        "plt.rcParams.update(settings)",
        "mpl.rc_file('custom.rc')",
        "k = 'animation.ffmpeg_path'",
        "rcParams |= {'ps.usedistiller': 'xpdf'}",
        "class W(FFMpegWriter):\n    @classmethod\n    def bin_path(cls):\n        return 'sh'",
        "matplotlib.use('module://evil')",
        "pd.options.plotting.backend = 'evil'",
        "pd.set_option('plotting.backend', 'evil')",
    ],
)
def test_matplotlib_rules(code: str) -> None:
    assert codes(code) & {"AF701", "AF105"}, format_findings(lint(code))


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("rc = plt.rcParams\nrc[k] = v", "AF701"),
        ("from matplotlib import rcParams as rp", "AF701"),
        ("configure(plt.rcParams)", "AF701"),
        ("class W:\n    def _args(self):\n        return ['sh']", "AF701"),
        ("df.plot(backend='evil')", "AF105"),
        ("df.plot.bar(backend=name)", "AF105"),
        ("pd.set_option(key, value)", "AF105"),
        ("for plt.rcParams[k] in ['x']:\n    pass", "AF701"),
        ("(rc := plt.rcParams)", "AF701"),
        ("plt.rcParams[k]: str = 'x'", "AF701"),
        ("plt.style.use(style_file)", "AF701"),
        ("plt.style.use('./evil.mplstyle')", "AF701"),
        ("open('s.txt', 'w').write('animation.ffmpeg_path: /bin/sh')", "AF701"),
        ("open('matplotlibrc', 'w')", "AF506"),
    ],
)
def test_matplotlib_and_backend_aliases(code: str, rule: str) -> None:
    assert rule in codes(code), format_findings(lint(code))


def test_usetex_per_call_warns() -> None:
    found = lint("plt.text(0, 0, 'x', usetex=True)")
    assert [(f.code, f.severity) for f in found] == [("AF702", "warning")]


def test_rcparams_position() -> None:
    f = only("import matplotlib as mpl\nmpl.rcParams['text.usetex'] = True\n")
    assert (f.code, f.line, f.col) == ("AF701", 2, 14)


@pytest.mark.parametrize(
    "code",
    [
        "plt.rcParams['figure.figsize'] = (10, 5)",
        "plt.rcParams.update({'font.size': 12, 'axes.grid': True, 'lines.linewidth': 2})",
        "mpl.rc('font', size=12)",
        "with plt.rc_context({'axes.titlesize': 14}):\n    plt.plot([1, 2])",
        "plt.style.use('ggplot')",
        "plt.style.use(['ggplot', 'dark_background'])",
        "with plt.style.context('seaborn-v0_8'):\n    pass",
        "print(plt.rcParams['font.size'])",
    ],
)
def test_matplotlib_styling_passes(code: str) -> None:
    assert lint(code) == [], format_findings(lint(code))


def test_external_animation_writer_warns() -> None:
    found = lint("anim.save('a.mp4', writer='ffmpeg')")
    assert [(f.code, f.severity) for f in found] == [("AF702", "warning")]
    assert lint("anim.save('a.gif', writer='pillow')") == []


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


# --- escape-corpus variants: ours, at least three per lint-rejectable class -----------------

VARIANTS: dict[str, list[str]] = {
    "dunder": [
        "x = [].__class__.__mro__[-1].__subclasses__()",
        "f = lambda: ().__class__.__bases__[0]",
        "def f(a=object.__subclasses__()):\n    pass",
        "@(lambda f: f.__globals__)\ndef g():\n    pass",
        "print(f'{(1).__class__}')",
        "x = [c for c in type(1).__base__.__subclasses__()]",
        "w = C.__init__.__globals__['popen']",
        "pd.__builtins__['eval']('1')",
        "match 1:\n    case int(__class__=c):\n        pass",
    ],
    "import": [
        "import os as o\no.system('x')",
        "from os import system as s",
        "def f():\n    import shutil\n    shutil.rmtree('.')",
        "import numpy, sys",
        "from subprocess import run",
        "import importlib.util",
        "import requests",
        "from pandas.io.common import os",
        "try:\n    import socket\nexcept ImportError:\n    pass",
    ],
    "builtins": [
        "f = eval",
        "list(map(exec, ['1']))",
        "g = globals()['__builtins__']",
        "vars(pd)",
        "class A:\n    f = staticmethod(eval)",
        "(lambda: locals())()",
        "def f(x=exec):\n    pass",
        "sorted(['1'], key=eval)",
        "import functools\nfunctools.partial(eval, '1')()",
        "x = [__import__ for _ in range(1)]",
    ],
    "getattr": [
        "getattr(pd, 'i' + 'o')",
        "name = 'os'\ngetattr(pd.io.common, name)",
        "g = getattr\ng(pd, 'io')",
        "import functools\nfunctools.reduce(getattr, ['io', 'common', 'os'], pd)",
        "getattr(x, ''.join(['__cl', 'ass__']))",
        "setattr(plt.rcParams, k, v)",
        "import operator\noperator.attrgetter(name)(pd)",
        "getattr(x, *names)",
        "f = lambda o: getattr(o, '__class__')",
    ],
    "reexport": [
        "import pandas as p\np.io.common.os.system('x')",
        "import numpy as n\nn.lib.format.pickle.loads(b'')",
        "import matplotlib as m\nm.cbook._get_executable_info('x')",
        "import matplotlib.pyplot as plt\nplt.matplotlib.subprocess.run(['x'])",
        "import sklearn.utils.validation as v\nv.joblib.load('x')",
        "import seaborn as sns\nsns.utils.urlopen('x')",
        "import statsmodels.tools.web as w\nw.webbrowser.open('x')",
        "import numpy as np\nx = np.testing.extbuild",
        "import pandas as pd\ndef f(a=pd.compat._optional.importlib):\n    pass",
    ],
    "ctypes": [
        "import numpy as np\nnp.ctypeslib.ctypes.CDLL(None)",
        "import numpy as n\nlib = n.ctypeslib.load_library('libc', '.')",
        "import numpy as np\nptr = np.zeros(3).ctypes.data",
        "from numpy.ctypeslib import ctypes",
        "import numpy.ctypeslib",
        "import pandas as pd\npd.errors.ctypes.CDLL(None)",
        "import numpy as np\nf = lambda: np.ctypeslib",
        "import numpy as np\nnp.f2py.compile('x')",
    ],
    "ipython": [
        "!!ls",
        "x = !ls",
        "files = %sx ls",
        "%%bash\ntouch x\n",
        "%%script bash\ntouch x\n",
        "get_ipython().run_line_magic('system', 'ls')",
        "ip = get_ipython()\nip.system('ls')",
        "def f():\n    !ls\n",
        "%run evil.py",
        "%env",
    ],
    "introspection": [
        "g = (x for x in [1])\nprint(g.gi_frame.f_back)",
        "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame.f_globals",
        "c = (lambda: 0).__code__.co_code",
        "v = f.__closure__[0].cell_contents",
        "import gc",
        "import pandas as pd\npd.core.common.inspect.currentframe()",
        "async def f():\n    pass\nprint(f().cr_frame)",
        "import numpy as np\nnp.ma.core.builtins.eval('1')",
        "import sys\nsys.modules['os']",
    ],
    "deserialization": [
        "import pandas as p\np.read_pickle('x')",
        "from pandas import read_pickle as rp",
        "np.load('x.npy', allow_pickle=flag)",
        "np.load('x.npy', None, True)",
        "import joblib\njoblib.load('x')",
        "np.lib.format.read_array(f, allow_pickle=True)",
        "import statsmodels.api as sm\nsm.load('m.pkl')",
        "loader = pd.read_pickle",
        "import pickle",
        "pd.io.pickle.read_pickle('x')",
    ],
    "matplotlib": [
        "import matplotlib as mpl\nmpl.rcParams['animation.convert_path'] = 'x'",
        "plt.rcParams.update({'text.usetex': True})",
        "plt.rc('text', usetex=True)",
        "with plt.rc_context({'animation.ffmpeg_path': 'x'}):\n    pass",
        "mpl.rc('animation', ffmpeg_path='x')",
        "k = 'animation.ffmpeg_' + 'path'\nplt.rcParams[k] = 'x'",
        "plt.rcParams.update(cfg)",
        "mpl.rc_file('x.rc')",
        "from matplotlib import rcParams\nrcParams['pgf.texsystem'] = 'x'",
        "class W(FFMpegWriter):\n    @classmethod\n    def bin_path(cls):\n        return 'sh'",
    ],
    "interactive": [
        "x = input",
        "[input() for _ in range(1)]",
        "def f(p=input('x')):\n    pass",
        "import pdb",
        "f = lambda: breakpoint()",
        "@breakpoint\ndef f():\n    pass",
    ],
}

LINT_REJECTABLE = frozenset(VARIANTS)


def _variant_cases() -> list[pytest.param]:
    return [
        pytest.param(klass, code, id=f"{klass}-{i}")
        for klass, items in VARIANTS.items()
        for i, code in enumerate(items)
    ]


@pytest.mark.parametrize(("klass", "code"), _variant_cases())
def test_escape_variants_rejected(klass: str, code: str) -> None:
    findings = lint(code)
    assert has_errors(findings), f"{klass} variant not rejected:\n{code}"
    for f in findings:
        assert f.message and f.hint and f.line >= 1 and f.col >= 1


def test_at_least_three_variants_per_class() -> None:
    assert all(len(v) >= 3 for v in VARIANTS.values())


# --- the shared escape corpus ---------------------------------------------------------------

PLACEHOLDERS = {
    "{HOST_FILE}": "/tmp/agentforge-host-file",
    "{HOST_SECRET_FILE}": "/tmp/agentforge-secret.txt",
    "{HOST_PORT}": "45123",
    "{HOST_SOCKET}": "/tmp/agentforge-host.sock",
}
# What lint does with the classes the sandbox alone must contain (measured; a change shows up).
EXPECTED_OTHER_CLASSES = {
    "infinite-loop": False,
    "sigint-ignored-loop": True,  # import signal
    "memory-bomb": False,
    "disk-fill": False,
    "fork-bomb": True,
    "kill-parent": True,
    "daemon-outlives-kernel": True,
    "exit-kernel": True,
    "segfault": True,
    "html-script-output": True,  # import IPython.display
    "javascript-output": True,
    "output-flood": False,
    "format-string-leak": True,
    "read-etc-passwd": True,
    "open-host-file": True,
    "proc-environ-secret": True,
    "os-environ-secret": True,
    "write-outside-workspace": True,
    "to-csv-outside": True,
    "savefig-outside": True,
    "network-read-csv": True,
    "network-socket": True,
    "host-unix-socket": True,
}


def _corpus() -> list[dict[str, str]]:
    path = shared_dir() / "security" / "escape-corpus.json"
    require(path.is_file(), f"escape corpus not found at {path} (set AGENTFORGE_SHARED_DIR)")
    return json.loads(path.read_text())


def _fill(code: str) -> str:
    for key, value in PLACEHOLDERS.items():
        code = code.replace(key, value)
    return code


def test_escape_corpus_lint_rejectable_classes() -> None:
    corpus = _corpus()
    assert {p["class"] for p in corpus} >= LINT_REJECTABLE
    missed = [p["id"] for p in corpus if p["class"] in LINT_REJECTABLE]
    missed = [i for i in missed if not has_errors(lint(_fill(_by_id(corpus, i))))]
    assert missed == []


def test_escape_corpus_other_classes_as_measured() -> None:
    corpus = _corpus()
    others = {p["id"]: p["code"] for p in corpus if p["class"] not in LINT_REJECTABLE}
    measured = {pid: has_errors(lint(_fill(code))) for pid, code in others.items()}
    assert measured == EXPECTED_OTHER_CLASSES


def test_escape_corpus_findings_are_actionable() -> None:
    for payload in _corpus():
        for f in lint(_fill(payload["code"])):
            assert f.code in RULES and f.hint, payload["id"]
            assert 1 <= f.line <= len(payload["code"].splitlines()) + 1, payload["id"]


def _by_id(corpus: list[dict[str, str]], pid: str) -> str:
    return next(p["code"] for p in corpus if p["id"] == pid)


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


# --- realistic analysis code passes ---------------------------------------------------------

LEGIT = [
    """
import pandas as pd
import numpy as np
import matplotlib.pyplot as plt

df["date"] = pd.to_datetime(df["date"], errors="coerce")
monthly = df.set_index("date").groupby("region")["revenue"].resample("MS").sum()
pivot = monthly.unstack(0).fillna(0)
ax = pivot.plot(figsize=(10, 4), title="Revenue by region")
ax.set_ylabel("revenue")
plt.tight_layout()
plt.savefig("revenue.png")
print(f"Top region: {pivot.sum().idxmax()} ({pivot.sum().max():,.0f})")
""",
    """
import seaborn as sns
from scipy import stats
sns.set_theme(style="whitegrid")
g = sns.histplot(data=df, x="units", hue="region", bins=30)
r = stats.pearsonr(df["units"], df["revenue"])
print(r.statistic, r.pvalue)
""",
    """
import statsmodels.formula.api as smf
model = smf.ols("revenue ~ units + C(region)", data=df).fit()
print(model.summary().tables[1])
df.query("units > 3 and region == 'North'").to_csv("north.csv", index=False)
""",
    """
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
X_train, X_test, y_train, y_test = train_test_split(df[["units"]], df["revenue"])
reg = LinearRegression().fit(X_train, y_train)
coef = getattr(reg, "coef_", None)
print(reg.score(X_test, y_test), coef)
""",
    """
from dataclasses import dataclass
from collections import Counter

@dataclass
class Summary:
    name: str
    total: float

    def __str__(self) -> str:
        return f"{self.name}: {self.total:.2f}"

class Tracker:
    def __init__(self):
        self.counts = Counter()

    def __len__(self):
        return len(self.counts)

    def add(self, key):
        self.counts[key] += 1

t = Tracker()
for region in df["region"].dropna():
    t.add(region)
print(len(t), Summary("all", df["revenue"].sum()))
""",
    """
import json, re, math
from pathlib import Path
cfg = json.loads('{"threshold": 3}')
clean = df["product"].str.replace(r"\\s+", " ", regex=True).str.strip()
ratio = math.log1p(df["units"].mean())
Path("reports").mkdir(exist_ok=True)
with open("reports/summary.json", "w") as fh:
    json.dump({"ratio": ratio, "n": int(clean.nunique())}, fh)
data = pd.read_csv("data/sales.csv", parse_dates=["date"])
""",
    """
import numpy as np
rng = np.random.default_rng(0)
samples = rng.normal(size=(100, 3))
cov = np.cov(samples, rowvar=False)
w, v = np.linalg.eigh(cov)
np.savetxt("eigs.txt", w)
arr = np.load("cache.npy") if False else samples
agg = df.groupby("region").agg(total=("revenue", "sum"), n=("units", "size"))
agg["share"] = agg["total"] / agg["total"].sum()
top = agg.sort_values("total", ascending=False).head(3)
print(top.to_string())
weekly = df.resample("W", on="date")["revenue"].sum().rolling(4).mean()
""",
    """
import matplotlib as mpl
mpl.rcParams["figure.figsize"] = (8, 4)
plt.rcParams.update({"axes.grid": True, "font.size": 11})
fig, axes = plt.subplots(1, 2)
for ax, (name, grp) in zip(axes, df.groupby("region")):
    ax.scatter(grp["units"], grp["revenue"], s=8, label=name)
    ax.legend()
fig.savefig("scatter.png", bbox_inches="tight")
""",
]


@pytest.mark.parametrize("code", LEGIT, ids=[f"legit-{i}" for i in range(len(LEGIT))])
def test_realistic_analysis_code_passes(code: str) -> None:
    findings = lint(code)
    assert findings == [], format_findings(findings)


def test_realistic_200_line_cell_passes() -> None:
    assert len(REALISTIC_CELL.splitlines()) == 200
    findings = lint(REALISTIC_CELL)
    assert findings == [], format_findings(findings)
