"""Checks on files, paths, URLs and loaders that unpickle."""

from __future__ import annotations

import ast

from .apis import PATH_KEYWORDS, PYTHON_SUFFIXES, SENSITIVE_PATH_RE, URL_RE
from .base import CheckerBase
from .nodes import is_false, is_non_str_literal, leading_str, path_problem


class FileChecks(CheckerBase):
    def visit_binop(self, node: ast.BinOp) -> None:
        # Path('data') / '../x' and Path('d') / '/etc/passwd' (an absolute right side wins).
        if isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    problem = path_problem(side.value, self.policy.workspace_dirs)
                    if problem:
                        self.report("AF501", side, f"Path component {side.value!r} {problem}.")

    def check_file_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        path_nodes: list[ast.AST] = []
        if node.args:
            path_nodes.append(node.args[0])
        path_nodes.extend(kw.value for kw in node.keywords if kw.arg in PATH_KEYWORDS)
        is_builtin_open = fname == "open" and receiver is None
        for arg in path_nodes:
            text = leading_str(arg)
            if text is None:
                if is_builtin_open and arg is path_nodes[0] and not is_non_str_literal(arg):
                    self.report("AF503", arg, "open() with a computed path cannot be checked.")
                continue
            if URL_RE.match(text):
                continue  # reported by the URL check
            problem = path_problem(text, self.policy.workspace_dirs)
            if problem:
                self.report("AF501", arg, f"Path {text!r} given to '{fname}' {problem}.")
            elif text.strip().lower().endswith(PYTHON_SUFFIXES) and isinstance(arg, ast.Constant):
                self.report(
                    "AF506", arg, f"'{fname}' on {text!r}: Python or native-code file name."
                )

    def check_any_path(self, arg: ast.AST, value: str, fname: str) -> None:
        """A literal host path given to any call (sklearn loaders, scipy.io ...)."""
        if SENSITIVE_PATH_RE.match(value) and path_problem(value, self.policy.workspace_dirs):
            self.report(
                "AF501",
                arg,
                f"Path {value!r} given to '{fname or 'a call'}' is outside the workspace.",
            )

    def check_load_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        if fname == "load" and len(node.args) >= 3 and not is_false(node.args[2]):
            self.report("AF601", node.args[2], "np.load with allow_pickle set positionally.")
        if isinstance(receiver, ast.Name):
            module = self.aliases.get(receiver.id, "")
            top = module.split(".")[0]
            if top in ("statsmodels", "joblib", "pickle", "dill") and not self.policy.unblocked(
                top
            ):
                self.report("AF601", node, f"'{receiver.id}.{fname}' unpickles its input.")

    def check_url(self, arg: ast.AST) -> None:
        text = leading_str(arg)
        if text is None or "://" not in text:
            return
        match = URL_RE.match(text)
        if match is None:
            return
        scheme = text.strip().split("://", 1)[0].lower()
        if scheme == "module":
            self.report("AF105", arg, f"{text!r} imports a module by name.")
        else:
            self.report("AF504", arg, f"Network address {text[:60]!r} cannot be reached.")
