"""Strings evaluated at run time: pandas `eval`/`query` and statsmodels/patsy formulas.

A literal is checked for what it reaches (`strings.check_expression_string`). A string built at
run time is accepted only when it is built from literals and column names taken from a
DataFrame (`df.columns`, `' + '.join(df.columns.drop('y'))`, a loop over `df.columns`): any
other value could carry `@pd.io.common.os` or `__import__('os')` into the evaluator.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .bindings import Element, Resolver, Value

# Builtins that pass strings through without adding any of their own.
_PASS_THROUGH = frozenset(
    {"str", "list", "tuple", "set", "sorted", "reversed", "enumerate", "zip", "len", "int", "range"}
)
_MAX_DEPTH = 12


def from_literals_and_columns(node: Value, resolve: Resolver, depth: int = 0) -> bool:
    """True when every string the expression can produce comes from literals or column names."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, Element):
        return from_literals_and_columns(node.of, resolve, depth + 1)
    handler = _BY_TYPE.get(type(node))
    return handler is not None and handler(node, resolve, depth + 1)


def _all(nodes: list, resolve: Resolver, depth: int) -> bool:
    return all(from_literals_and_columns(n, resolve, depth) for n in nodes if n is not None)


def _constant(node: ast.Constant, resolve: Resolver, depth: int) -> bool:
    return True


def _joined(node: ast.JoinedStr, resolve: Resolver, depth: int) -> bool:
    return _all(list(node.values), resolve, depth)


def _formatted(node: ast.FormattedValue, resolve: Resolver, depth: int) -> bool:
    return _all([node.value, node.format_spec], resolve, depth)


def _binop(node: ast.BinOp, resolve: Resolver, depth: int) -> bool:
    return _all([node.left, node.right], resolve, depth)


def _attribute(node: ast.Attribute, resolve: Resolver, depth: int) -> bool:
    # X.columns are column names, whatever X is; other attributes of a derived value
    # (df.columns.str, cols.values) stay derived.
    return node.attr == "columns" or from_literals_and_columns(node.value, resolve, depth)


def _subscript(node: ast.Subscript, resolve: Resolver, depth: int) -> bool:
    return from_literals_and_columns(node.value, resolve, depth)  # df.columns[i]


def _call(node: ast.Call, resolve: Resolver, depth: int) -> bool:
    func = node.func
    if isinstance(func, ast.Attribute):
        receiver_ok = from_literals_and_columns(func.value, resolve, depth)
    else:
        receiver_ok = isinstance(func, ast.Name) and func.id in _PASS_THROUGH
    arguments = [*node.args, *(kw.value for kw in node.keywords)]
    return receiver_ok and _all(arguments, resolve, depth)


def _collection(node: ast.List | ast.Tuple | ast.Set, resolve: Resolver, depth: int) -> bool:
    return _all(list(node.elts), resolve, depth)


def _starred(node: ast.Starred, resolve: Resolver, depth: int) -> bool:
    return from_literals_and_columns(node.value, resolve, depth)


def _if_exp(node: ast.IfExp, resolve: Resolver, depth: int) -> bool:
    return _all([node.body, node.orelse], resolve, depth)


def _comprehension(
    node: ast.ListComp | ast.GeneratorExp | ast.SetComp, resolve: Resolver, depth: int
) -> bool:
    local: dict[str, list[Value]] = {}
    for gen in node.generators:
        for target in ast.walk(gen.target):
            if isinstance(target, ast.Name):
                local[target.id] = [Element(gen.iter)]

    def inner(name: str) -> list[Value] | None:
        return local[name] if name in local else resolve(name)

    return from_literals_and_columns(node.elt, inner, depth)


def _name(node: ast.Name, resolve: Resolver, depth: int) -> bool:
    values = resolve(node.id)
    return values is not None and _all(list(values), resolve, depth)


# Each handler takes the node type it is registered for.
_BY_TYPE: dict[type[ast.AST], Callable[[Any, Resolver, int], bool]] = {
    ast.Constant: _constant,
    ast.JoinedStr: _joined,
    ast.FormattedValue: _formatted,
    ast.BinOp: _binop,
    ast.Attribute: _attribute,
    ast.Subscript: _subscript,
    ast.Call: _call,
    ast.List: _collection,
    ast.Tuple: _collection,
    ast.Set: _collection,
    ast.Starred: _starred,
    ast.IfExp: _if_exp,
    ast.ListComp: _comprehension,
    ast.GeneratorExp: _comprehension,
    ast.SetComp: _comprehension,
    ast.Name: _name,
}
