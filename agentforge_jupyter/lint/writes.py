"""Files written under names that could be code (AF506).

A `.py` file written into the working directory, a `.pth` or a `.so`, would run unchecked at
the next import; `matplotlibrc` and `.mplstyle` files are read as settings. A literal name is
checked directly; a computed one must end in a literal data suffix (`f'{name}.csv'`), or be a
name this cell binds only to such values, or a handle (`open(...)`, `StringIO()`) checked where
it was made. Anything else is an error: the name cannot be known before the code runs.
"""

from __future__ import annotations

import ast
import re

from .apis import (
    HANDLE_MAKERS,
    OPEN_WRITE_MODES,
    PATH_CONSTRUCTORS,
    PATH_METHOD_WRITES,
    PATH_MOVES,
    WRITE_APIS,
)
from .base import CheckerBase
from .bindings import Element, Resolver, Value
from .nodes import bytes_text, call_name, data_suffix, is_file_api, literal_str, names_code

_PERCENT_FIELD_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z%]")
_MAX_DEPTH = 8


class WriteChecks(CheckerBase):
    def check_write_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        path_method = fname in PATH_METHOD_WRITES or fname in PATH_MOVES or fname == "open"
        if receiver is not None and path_method and not _is_io_module(receiver):
            self.check_path_method(node, fname, receiver)
            return
        if fname == "dump" and len(node.args) != 1:
            return  # json.dump(obj, fp): fp is a handle; array.dump(file) has one argument
        position, keywords = WRITE_APIS[fname]
        path = _argument(node, position, keywords)
        if path is None or (fname == "open" and not _open_writes(node, 1)):
            return
        self.check_written_path(path, fname, node)

    def note_path_binding(self, node: ast.Assign) -> None:
        """Remember names bound to paths, so that `p.rename(x)` is told from `s.replace(x)`."""
        if _looks_like_path(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.path_names.add(target.id)

    def check_path_method(self, node: ast.Call, fname: str, receiver: ast.AST) -> None:
        if fname in PATH_MOVES:
            target = _argument(node, 0, frozenset({"target"}))
            if target is None:
                return
            if isinstance(receiver, ast.Name):  # s.replace(...) is common: only path names
                if receiver.id in self.path_names:
                    self.deferred.append(
                        lambda resolve: self.resolve_move(receiver, target, resolve)
                    )
            elif _looks_like_path(receiver):
                self.check_written_path(target, f"Path.{fname}", node)
        elif fname != "open" or _open_writes(node, 0):
            self.check_written_path(receiver, f"Path.{fname}", node)

    def check_written_path(self, path: ast.AST, fname: str, node: ast.AST) -> None:
        text = _literal_text(path)
        if text is not None:
            if names_code(text) and not is_file_api(fname):
                self.report_code_file(path, fname, f"{text!r}")
            return  # literal: file APIs report it in check_file_call
        self.deferred.append(lambda resolve: self.resolve_written_path(path, fname, resolve))

    def resolve_written_path(self, path: ast.AST, fname: str, resolve: Resolver) -> None:
        if not path_safe(path, resolve, tail=False):
            self.report_code_file(path, fname, "a name computed at run time")

    def resolve_move(self, receiver: ast.Name, target: ast.AST, resolve: Resolver) -> None:
        values = resolve(receiver.id) or []
        if any(not isinstance(v, Element) and _looks_like_path(v) for v in values):
            text = _literal_text(target)
            if text is not None:
                if names_code(text):
                    self.report_code_file(target, "Path.rename", f"{text!r}")
            elif not path_safe(target, resolve, tail=False):
                self.report_code_file(target, "Path.rename", "a name computed at run time")

    def report_code_file(self, path: ast.AST, fname: str, shown: str) -> None:
        self.report(
            "AF506",
            path,
            f"'{fname}' writes to {shown}: it could be a Python module (.py, .pth, .so) that a "
            "later import runs without any check.",
            "Write to a literal data file name ('result.csv'), or end a computed name with a "
            "literal data suffix: f'{name}.csv', Path('out') / f'{name}.parquet'.",
        )


def _argument(node: ast.Call, position: int, keywords: frozenset[str]) -> ast.AST | None:
    if len(node.args) > position and not isinstance(node.args[position], ast.Starred):
        return node.args[position]
    for kw in node.keywords:
        if kw.arg in keywords:
            return kw.value
    if any(isinstance(a, ast.Starred) for a in node.args):
        return node.args[0]  # *args: the path cannot be known, report the call's argument
    return None


def _open_writes(node: ast.Call, position: int) -> bool:
    """True unless the mode of an open() call is a literal that only reads."""
    mode = _argument(node, position, frozenset({"mode"}))
    if mode is None:
        return False
    text = literal_str(mode)
    return text is None or bool(OPEN_WRITE_MODES & set(text))


def _is_io_module(receiver: ast.AST) -> bool:
    return isinstance(receiver, ast.Name) and receiver.id == "io"


def _looks_like_path(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        return call_name(node) in PATH_CONSTRUCTORS
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.Div)
    return False


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bytes):
            return bytes_text(node.value)
        return node.value if isinstance(node.value, str) else None
    return None


def path_safe(node: Value, resolve: Resolver, tail: bool, depth: int = 0) -> bool:
    """True when the file a path expression names cannot be a module. `tail` means the node is
    only the end of a longer name, so it must fix a data suffix by itself."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, Element):
        items = node.of.elts if isinstance(node.of, (ast.List, ast.Tuple, ast.Set)) else None
        return items is not None and all(path_safe(i, resolve, tail, depth + 1) for i in items)
    if isinstance(node, ast.Constant):
        text = _literal_text(node)
        if text is None:
            return True  # None, a file descriptor number
        return data_suffix(text) if tail else not names_code(text)
    if isinstance(node, ast.JoinedStr):
        last = node.values[-1] if node.values else None
        return isinstance(last, ast.Constant) and data_suffix(str(last.value))
    if isinstance(node, ast.BinOp):
        return _binop_safe(node, resolve, depth)
    if isinstance(node, ast.Call):
        return _call_safe(node, resolve, tail, depth)
    if isinstance(node, ast.Name):
        values = resolve(node.id)
        return values is not None and all(path_safe(v, resolve, tail, depth + 1) for v in values)
    return False


def _binop_safe(node: ast.BinOp, resolve: Resolver, depth: int) -> bool:
    if isinstance(node.op, (ast.Add, ast.Div)):
        return path_safe(node.right, resolve, True, depth + 1)
    if isinstance(node.op, ast.Mod):
        text = literal_str(node.left)
        return text is not None and data_suffix(_PERCENT_FIELD_RE.split(text)[-1])
    return False


def _call_safe(node: ast.Call, resolve: Resolver, tail: bool, depth: int) -> bool:
    name = call_name(node)
    if name in HANDLE_MAKERS:
        return True
    if name in PATH_CONSTRUCTORS or name == "joinpath":
        args = node.args
        return not args or path_safe(args[-1], resolve, tail and len(args) == 1, depth + 1)
    if name == "with_suffix" and node.args:
        text = literal_str(node.args[0])
        return text is not None and data_suffix(text)
    if name == "with_name" and node.args:
        return path_safe(node.args[0], resolve, tail, depth + 1)
    func = node.func
    if name == "format" and isinstance(func, ast.Attribute):
        text = literal_str(func.value)
        return text is not None and data_suffix(text.rsplit("}", 1)[-1])
    return False
