"""Imports: blocked modules and the allow-lists (lint/names.py, policy.py)."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import lint

from .lint_support import only

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
