"""matplotlib rcParams, styles, backends and animation writers (lint/options.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, lint

from .lint_support import codes, only

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
