"""Strings: format fields, interpreter internals, and strings evaluated at run time (pandas
query/eval, formulas; lint/strings.py, evaluated.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, lint

from .lint_support import codes, only

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
