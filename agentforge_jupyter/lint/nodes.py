"""Small helpers that read AST nodes and literal paths."""

from __future__ import annotations

import ast
import re

from .apis import (
    DATA_SUFFIX_RE,
    FILE_APIS,
    IMPORT_HINTS,
    PYTHON_SUFFIXES,
    RC_DANGER_RE,
    RC_NAMES,
    WIN_ABS_RE,
)
from .rules import RULES


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def path_problem(path: str, workspace_dirs: frozenset[str] = frozenset()) -> str | None:
    """Why a literal path leaves the workspace, or None when it stays inside. Absolute paths
    inside `workspace_dirs` (the sandbox's working directory, `/workspace`) are fine."""
    p = path.strip()
    if not p:
        return None
    if ".." in re.split(r"[\\/]", p):
        return "contains '..'"
    if p.startswith(("/", "\\")) or WIN_ABS_RE.match(p):
        if any(p == d or p.startswith(d.rstrip("/") + "/") for d in workspace_dirs):
            return None
        return "is absolute"
    if p.startswith("~"):
        return "starts with '~' (the home directory)"
    return None


def rc_key_is_dangerous(key: str) -> bool:
    """True when the text names a dangerous setting: as a key, or inside a style/rc file."""
    return bool(RC_DANGER_RE.search(key))


def is_file_api(fname: str) -> bool:
    return fname in FILE_APIS or fname.startswith(("read_", "to_"))


def is_rc_object(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in RC_NAMES
    return isinstance(node, ast.Name) and node.id in RC_NAMES


def dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def literal_str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def leading_str(node: ast.AST) -> str | None:
    """The literal text a string expression starts with: 'x', f'x{y}', 'x' + y, Path('x');
    bytes literals are paths and URLs too."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bytes):
            return bytes_text(value)
        return value if isinstance(value, str) else None
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return leading_str(node.left)
    return None


def is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None, 0)


def is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def is_non_str_literal(node: ast.AST) -> bool:
    # open(3) (a file descriptor) is a literal that is not a path: nothing to warn about.
    return isinstance(node, ast.Constant) and not isinstance(node.value, str)


def import_hint(top: str) -> str:
    return IMPORT_HINTS.get(top, RULES["AF101"].hint)


def bytes_text(value: bytes) -> str:
    """Bytes literals are paths and URLs too (`open(b'/etc/passwd')`)."""
    return value.decode("latin-1")


def call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def effective_keywords(node: ast.Call) -> tuple[list[tuple[str, ast.AST]], list[ast.AST]]:
    """The keyword arguments of a call, with `**{'k': v}` and `**dict(k=v)` read as keywords;
    and the `**` values whose keys cannot be known (`**opts`, computed keys)."""
    pairs: list[tuple[str, ast.AST]] = []
    opaque: list[ast.AST] = []
    pending: list[ast.keyword] = list(node.keywords)
    while pending:
        kw = pending.pop(0)
        if kw.arg is not None:
            pairs.append((kw.arg, kw.value))
            continue
        value = kw.value
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                if key is None:
                    pending.append(ast.keyword(arg=None, value=item))
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    pairs.append((key.value, item))
                else:
                    opaque.append(key)
        elif isinstance(value, ast.Call) and call_name(value) == "dict" and not value.args:
            pending.extend(value.keywords)
        else:
            opaque.append(value)
    return pairs, opaque


def names_code(path: str) -> bool:
    """True when a file name is one Python would run or load (a module, a .pth, an extension)
    or matplotlib would read as settings."""
    return path.strip().lower().endswith(PYTHON_SUFFIXES)


def data_suffix(tail: str) -> bool:
    """True when the literal end of a computed file name fixes a harmless suffix (`f'{x}.csv'`)."""
    return bool(DATA_SUFFIX_RE.search(tail.strip())) and not names_code(tail)
