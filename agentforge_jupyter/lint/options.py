"""Checks on matplotlib rcParams, styles and backends, and pandas options."""

from __future__ import annotations

import ast
import re

from .apis import (
    EXTERNAL_WRITERS,
    MPL_BACKENDS,
    PANDAS_PLOTTING_BACKENDS,
    RC_KWARGS,
    RC_NAMES,
)
from .base import CheckerBase
from .nodes import is_none, is_rc_object, literal_str, rc_key_is_dangerous


class OptionChecks(CheckerBase):
    def visit_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name in ("bin_path", "_args"):
            self.report(
                "AF701",
                node,
                f"Defining '{node.name}' overrides the command a matplotlib animation writer runs.",
                "Do not subclass animation writers; use writer='pillow'.",
            )

    # assignments: rcParams writes and pandas plotting backend ------------------------------
    def visit_assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.check_store_target(target, node.value)
        if is_rc_object(node.value):
            self.report_rc_alias(node.value)

    def visit_named_expr(self, node: ast.NamedExpr) -> None:
        if is_rc_object(node.value):
            self.report_rc_alias(node.value)

    def visit_subscript(self, node: ast.Subscript) -> None:
        # Every store: assignments, for/with targets, augmented and annotated assignments.
        if node.ctx.__class__ is ast.Store and is_rc_object(node.value):
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
            if target.id in RC_NAMES:  # rcParams |= {...}
                self.check_rc_mapping(node.value, target)
            return
        self.check_store_target(target, node.value)

    def check_store_target(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.check_store_target(elt, value)
            return
        if isinstance(target, ast.Attribute):
            if target.attr in RC_NAMES:
                self.check_rc_mapping(value, target)
            elif target.attr == "backend":  # pd.options.plotting.backend, or an alias of it
                self.check_plotting_backend(value, target)
        elif (
            isinstance(target, ast.Subscript)
            and literal_str(target.slice) == "backend"
            and is_rc_object(target.value)
        ):
            self.check_mpl_backend(value)

    def check_rc_mapping(self, value: ast.AST, where: ast.AST) -> None:
        """A mapping written into rcParams: every key must be a literal (dangerous literals
        are reported by the string check)."""
        if isinstance(value, ast.Dict):
            if any(k is None or not isinstance(k, ast.Constant) for k in value.keys):
                self.report(
                    "AF701", where, "rcParams updated with computed keys: cannot be checked."
                )
            for key, item in zip(value.keys, value.values, strict=True):
                if key is not None and literal_str(key) == "backend":
                    self.check_mpl_backend(item)
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
        if literal_str(value) in PANDAS_PLOTTING_BACKENDS:
            return
        self.report(
            "AF105",
            where,
            "Setting the pandas plotting backend to anything but the literal 'matplotlib' "
            "imports a module by name.",
            "Leave the plotting backend at 'matplotlib' (pd.options.plotting.backend = "
            "'matplotlib'); plot with df.plot(...) or matplotlib directly.",
        )

    def check_rc_update(self, node: ast.Call) -> None:
        if node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                if len(node.args) < 2 or not isinstance(first.value, str):
                    self.check_rc_mapping(first, node)
                elif first.value == "backend":
                    self.check_mpl_backend(node.args[1])
                # setdefault/_set with another literal key: the string check covers the key
            else:
                self.check_rc_mapping(first, node)
        for kw in node.keywords:
            if kw.arg is None:
                self.report("AF701", node, "rcParams updated with **mapping: unchecked.")

    def check_rc_call(self, node: ast.Call, fname: str) -> None:
        if fname == "rc_file":
            self.report("AF701", node, "rc_file() loads settings from a file, unchecked.")
        elif fname == "rc_context":
            self.check_rc_context(node)
        else:
            self.check_rc_group(node)

    def check_rc_context(self, node: ast.Call) -> None:
        for kw in node.keywords:
            if kw.arg == "fname":
                self.report("AF701", node, "rc_context(fname=...) loads settings from a file.")
            elif kw.arg in ("rc", None):
                self.check_rc_mapping(kw.value, node)
        if node.args and not is_none(node.args[0]):
            self.check_rc_mapping(node.args[0], node)
        if len(node.args) > 1 and not is_none(node.args[1]):
            self.report("AF701", node, "rc_context(fname) loads settings from a file.")

    def check_rc_group(self, node: ast.Call) -> None:
        """rc(group, **kwargs): the key is group + '.' + kwarg name."""
        groups = _rc_groups(node.args[0]) if node.args else None
        for kw in node.keywords:
            if kw.arg is None:
                self.report("AF701", node, "rc() with **mapping: the settings are unchecked.")
                continue
            keys = [f"{g}.{kw.arg}" for g in groups] if groups is not None else []
            if kw.arg in RC_KWARGS or any(rc_key_is_dangerous(k) for k in keys):
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
            text = literal_str(item)
            if text is None or "/" in text or "\\" in text or text.endswith(".mplstyle"):
                self.report(
                    "AF701",
                    item,
                    "Style loaded from a file or a computed name: its settings are unchecked.",
                    "Use a built-in style by name (plt.style.use('ggplot')) or a literal dict "
                    "of styling keys.",
                )

    def check_mpl_backend(self, arg: ast.AST) -> None:
        """matplotlib.use / switch_backend / rcParams['backend']: a backend outside the
        allow-list is a module import (`module://x`, or a name matplotlib resolves)."""
        text = literal_str(arg)
        if text is not None and text.lower() in MPL_BACKENDS:
            return
        shown = repr(text) if text is not None else "computed at run time"
        self.report(
            "AF105",
            arg,
            f"Matplotlib backend {shown} is not a literal from the allow-list: selecting a "
            "backend imports a module by name.",
            "Leave the backend alone (figures are captured as PNG), or use "
            f"matplotlib.use('agg'); allowed: {', '.join(sorted(MPL_BACKENDS))}.",
        )

    def check_set_option(self, node: ast.Call) -> None:
        args = node.args
        for i in range(0, len(args) - 1, 2):
            key = literal_str(args[i])
            if key is None:
                self.report(
                    "AF105",
                    args[i],
                    "pandas option set with a computed name: it could be 'plotting.backend', "
                    "which imports a module by name.",
                    "Use literal option names, e.g. pd.set_option('display.max_rows', 50).",
                )
            elif _selects_plotting_backend(key):
                self.check_plotting_backend(args[i + 1], args[i])

    def check_external_writer(self, node: ast.Call) -> None:
        for kw in node.keywords:
            if kw.arg == "writer":
                text = literal_str(kw.value)
                if text in EXTERNAL_WRITERS:
                    self.report("AF702", kw.value, f"Animation writer {text!r} runs a program.")
            elif kw.arg == "backend" and literal_str(kw.value) == "pgf":
                self.report("AF702", kw.value, "The pgf backend runs LaTeX.")


def _selects_plotting_backend(pattern: str) -> bool:
    """pandas treats an option name as a regular expression (`set_option('backend', x)` and
    `set_option('p.*d$', x)` both set plotting.backend)."""
    try:
        return re.search(pattern, "plotting.backend", re.IGNORECASE) is not None
    except re.error:
        return False  # pandas cannot use it either


def _rc_groups(group: ast.AST) -> list[str] | None:
    """The literal group names of rc(group, ...), or None when one is computed."""
    if isinstance(group, ast.Constant) and isinstance(group.value, str):
        return [group.value]
    if isinstance(group, (ast.Tuple, ast.List)):
        literal = [literal_str(e) for e in group.elts]
        return None if None in literal else [g for g in literal if g]
    return None
