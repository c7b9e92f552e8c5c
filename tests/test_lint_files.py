"""Files, paths, the network and loaders that unpickle (lint/files.py, calls.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, lint

from .lint_support import codes, only

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
