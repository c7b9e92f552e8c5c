"""Escape attempts: our own variants (at least three per lint-rejectable class) and the shared
escape corpus (../shared/security/escape-corpus.json)."""

from __future__ import annotations

import json

import pytest

from agentforge_jupyter.lint import RULES, has_errors, lint

from .conftest import require, shared_dir

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
