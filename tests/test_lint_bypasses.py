"""Issue 7 §3: linter bypasses found with lint on. Each must be an error with a usable hint,
and the legitimate code around each must still pass."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, has_errors, lint


def errors(code: str) -> list[tuple[str, str]]:
    return [(f.code, f.hint) for f in lint(code) if f.severity == "error"]


def assert_error(code: str, rule: str) -> None:
    found = [hint for c, hint in errors(code) if c == rule]
    assert found, f"{rule} expected for {code!r}:\n{format_findings(lint(code))}"
    assert all(len(h) > 20 for h in found)


def assert_clean(code: str) -> None:
    assert not has_errors(lint(code)), format_findings(lint(code))


# --- files whose names could be code --------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "open(name, 'w').write(src)",
        "open(name, mode='a')",
        "open(name, m)",
        "with open(d + '/statistics' + ext, 'w') as f:\n    f.write(src)",
        "open(f'{mod}.py', 'w')",
        "open('statistics' + '.py', 'w')",
        "open(b'statistics.py', 'w')",
        "Path(name).write_text(src)",
        "Path('.').joinpath(name).write_text(src)",
        "(Path('out') / name).write_bytes(b'x')",
        "Path('x.pth').write_text('import os')",
        "p = Path('data.csv')\np.rename(target)",
        "Path('a.csv').rename('agentforge_tools.py')",
        "df.to_csv(name)",
        "df.to_csv(path_or_buf=name, index=False)",
        "df.to_json(f'{x}')",
        "df.to_html(name + '.py')",
        "np.savetxt(fname, arr)",
        "a.tofile(out)",
        "a.dump(out)",
        "plt.savefig(name, format='png')",
        "out = 'evil.py'\ndf.to_csv(out)",
        "for out in ['a.csv', 'b.py']:\n    df.to_csv(out)",
        "def save(path):\n    df.to_csv(path)",
        "out = 'a.csv'\nout += '.py'\ndf.to_csv(out)",
        "name = '%s.py' % mod\nopen(name, 'w')",
        "df.to_csv('{}.so'.format(x))",
        "io.open(name, 'w')",
        "Path(name).open('w')",
    ],
)
def test_writing_files_that_could_be_code(code: str) -> None:
    assert_error(code, "AF506")


@pytest.mark.parametrize(
    "code",
    [
        "df.to_csv('out.csv', index=False)",
        "df.to_parquet(f'out_{i}.parquet')",
        "df.to_csv(name + '.csv')",
        "df.to_csv('%s.csv' % name)",
        "df.to_csv('{}.csv'.format(name))",
        "out = 'result.csv'\ndf.to_csv(out)",
        "out = Path('out') / f'{name}.csv'\ndf.to_csv(out)",
        "for out in ['a.csv', 'b.csv']:\n    df.to_csv(out)",
        "with open('notes.txt', 'w') as f:\n    df.to_csv(f)",
        "buf = io.StringIO()\ndf.to_csv(buf)\ntext = buf.getvalue()",
        "df.to_csv(io.StringIO())",
        "s = df.to_csv(index=False)\nh = df.to_html()\nt = df.to_string()",
        "text = open(name).read()",
        "text = open(name, 'r').read()",
        "Path(name).with_suffix('.csv').write_text(s)",
        "with pd.ExcelWriter('out.xlsx') as w:\n    df.to_excel(w)",
        "json.dump(obj, fp)",
        "s = col.replace('.py', '')\nt = s.rename('x')",
        "df = df.rename(columns=mapping)",
        "plt.savefig(f'chart_{i}.png')",
        "p = Path('data') / 'x.csv'\nq = p.with_name('y.csv')",
    ],
)
def test_writing_data_files_passes(code: str) -> None:
    assert_clean(code)


def test_computed_write_message_says_what_to_do() -> None:
    (finding,) = [f for f in lint("df.to_csv(name)") if f.code == "AF506"]
    assert finding.severity == "error"
    assert "computed" in finding.message and ".py" in finding.message
    assert "f'{name}.csv'" in finding.hint


# --- keyword arguments through ** -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("np.load(buf, **{'allow_pickle': True})", "AF601"),
        ("np.load(buf, **dict(allow_pickle=True))", "AF601"),
        ("np.load(buf, **{**{'allow_pickle': True}})", "AF601"),
        ("np.load(buf, **opts)", "AF601"),
        ("np.load(buf, **{key: True})", "AF601"),
        ("pd.read_csv(f, **kwargs)", "AF601"),
        ("np.lib.format.read_array(f, **kw)", "AF601"),
        ("df.plot(**{'backend': 'evil'})", "AF105"),
        ("df.plot(**style)", "AF105"),
        ("df.plot.bar(**style)", "AF105"),
        ("pd.read_csv(**{'filepath_or_buffer': 'https://host/x.csv'})", "AF504"),
        ("np.load(b'/etc/passwd')", "AF501"),
        ("x = some_loader(b'/proc/self/environ')", "AF501"),
        ("pd.read_csv(b'https://example.com/x.csv')", "AF504"),
    ],
)
def test_keywords_through_mappings_and_bytes(code: str, rule: str) -> None:
    assert_error(code, rule)


@pytest.mark.parametrize(
    "code",
    [
        "np.load(buf, **{'allow_pickle': False})",
        "a = np.load('a.npy', **{'mmap_mode': 'r'})",
        "df.plot(**{'kind': 'bar', 'color': 'C0'})",
        "plt.plot(x, y, **style)",
        "fig, ax = plt.subplots()\nax.set(**labels)",
        "d = dict(a=1, **extra)",
    ],
)
def test_readable_mappings_pass(code: str) -> None:
    assert_clean(code)


# --- backends: a plotting backend is a module import ----------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "matplotlib.use(name)",
        "matplotlib.use('evil')",
        "matplotlib.use(backend='module://evil')",
        "plt.switch_backend(b)",
        "mpl.rcParams['backend'] = name",
        "plt.rcParams.update({'backend': 'module://x'})",
        "pd.set_option('plotting.backend', name)",
        "pd.set_option('backend', 'evil')",
        "pd.set_option('p.*d$', 'evil')",
        "pd.option_context('plotting.backend', 'x')",
        "setattr(pd.options.plotting, 'backend', 'evil')",
        "setattr(pd.options, 'plotting.backend', name)",
        "pd.options.plotting.backend = name",
        "opts = pd.options.plotting\nopts.backend = 'evil'",
        "pd.plotting._core._get_plot_backend('evil')",
    ],
)
def test_backends_outside_the_allow_list(code: str) -> None:
    assert_error(code, "AF105")


@pytest.mark.parametrize(
    "code",
    [
        "matplotlib.use('Agg')",
        "matplotlib.use('agg')",
        "plt.switch_backend('svg')",
        "pd.options.plotting.backend = 'matplotlib'",
        "pd.set_option('plotting.backend', 'matplotlib')",
        "pd.set_option('display.max_rows', 50)",
        "pd.set_option('max_columns', None)",
        "plt.style.use('ggplot')",
        "x = df.plot(kind='bar')",
    ],
)
def test_allowed_backends_pass(code: str) -> None:
    assert_clean(code)


# --- strings evaluated at run time ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("m = smf.ols(formula, data=df)", "AF307"),
        ("m = smf.ols('y ~ ' + rhs, data=df)", "AF307"),
        ("m = smf.ols(f'y ~ {rhs}', data=df)", "AF307"),
        ("m = smf.mixedlm('y ~ x', df, groups=g, re_formula=re_f)", "AF307"),
        ("r = pd.eval(expr)", "AF305"),
        ("r = df.query(f'revenue > {threshold}')", "AF305"),
        ("r = df.eval(text)", "AF305"),
        ("r = df.query(expr=cond)", "AF305"),
        ("vals = df['name'].unique()\nr = df.query(f'name == {vals[0]!r}')", "AF305"),
        ("cond = input_text\nr = df.query(cond)", "AF305"),
    ],
)
def test_strings_evaluated_at_run_time(code: str, rule: str) -> None:
    assert_error(code, rule)


@pytest.mark.parametrize(
    "code",
    [
        "m = smf.ols('revenue ~ units + C(region)', data=df)",
        "f = 'y ~ x'\nm = smf.ols(f, data=df)",
        "rhs = ' + '.join(df.columns.drop('y'))\nm = smf.ols('y ~ ' + rhs, data=df)",
        "m = smf.ols(f\"y ~ {' + '.join(df.columns[1:])}\", data=df)",
        "cols = [c for c in df.columns if c != 'y']\nm = smf.ols('y ~ ' + ' + '.join(cols), df)",
        "for col in df.select_dtypes('number').columns:\n    smf.ols(f'y ~ {col}', df).fit()",
        "r = df.query('revenue > @threshold')",
        "r = df.eval('total = units * price')",
        "r = pd.eval('a + b')",
    ],
)
def test_literals_and_column_names_pass(code: str) -> None:
    assert_clean(code)
