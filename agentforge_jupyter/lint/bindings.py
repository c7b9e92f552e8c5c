"""What a cell binds each name to, for the few rules that must follow a name to its value.

Only collected when such a rule is pending (a file written to a computed path, a query or
formula built at run time), so ordinary cells never pay for it. A name bound in any way the
rules cannot follow (a parameter, an import, `+=`, a previous cell) resolves to `None`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Element:
    """A value taken from `of` by iteration or unpacking (`for x in of`, `a, b = of`)."""

    of: ast.AST


Value = ast.AST | Element
Resolver = Callable[[str], "list[Value] | None"]


class _Bindings:
    def __init__(self) -> None:
        self.values: dict[str, list[Value | None]] = {}
        self.explained: set[int] = set()

    def bind(self, name: str, value: Value | None) -> None:
        self.values.setdefault(name, []).append(value)

    def bind_target(self, target: ast.AST, value: ast.AST | None, unpacked: bool = False) -> None:
        if isinstance(target, ast.Name):
            self.explained.add(id(target))
            self.bind(target.id, Element(value) if unpacked and value is not None else value)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, value, unpacked)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind_target(elt, value if not isinstance(value, Element) else None, True)

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.bind_target(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            self.bind_target(node.target, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self.bind_target(node.target, node.iter, unpacked=True)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self.bind_target(node.optional_vars, node.context_expr)
        else:
            for name in _other_names(node):
                self.bind(name, None)

    def finish(self, tree: ast.AST) -> dict[str, list[Value | None]]:
        for node in ast.walk(tree):
            stored = isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
            if stored and id(node) not in self.explained:
                self.bind(node.id, None)  # type: ignore[attr-defined]
        return self.values


def _other_names(node: ast.AST) -> list[str]:
    """Names bound in ways no rule follows: parameters, imports, definitions, handlers."""
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.asname or node.name.split(".")[0]]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    name = getattr(node, "name", None)
    rest = getattr(node, "rest", None)
    return [n for n in (name, rest) if isinstance(n, str)]


def resolver(tree: ast.AST) -> Resolver:
    """`resolve(name)`: every value the cell binds `name` to, or None when one of its bindings
    cannot be followed or the cell does not bind it at all."""
    collector = _Bindings()
    for node in ast.walk(tree):
        collector.visit(node)
    values = collector.finish(tree)

    def resolve(name: str) -> list[Value] | None:
        found = values.get(name)
        if not found or any(v is None for v in found):
            return None
        return [v for v in found if v is not None]

    return resolve
