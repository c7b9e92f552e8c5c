"""One pre-order traversal of the tree, dispatching on node type."""

from __future__ import annotations

import ast
from collections.abc import Callable

from .apis import ATTR_TRIGGERS, NAME_TRIGGERS
from .bindings import resolver
from .calls import CallChecks
from .rules import Finding

TYPE_CHECKING = False  # no `typing` import at run time (start-up time)
if TYPE_CHECKING:
    from typing import Any


class Checker(CallChecks):
    def run(self, tree: ast.AST) -> list[Finding]:
        self.traverse(tree)
        if self.deferred:  # rules that follow names to their values (rare: pay only then)
            resolve = resolver(tree)
            for check in self.deferred:
                check(resolve)
        return self.findings

    def visit_assign(self, node: ast.Assign) -> None:
        super().visit_assign(node)
        self.note_path_binding(node)

    def traverse(self, tree: ast.AST) -> None:
        plans = PLANS
        stack: list[ast.AST] = [tree]
        pop, push = stack.pop, stack.append
        Name, Constant, Attribute = ast.Name, ast.Constant, ast.Attribute
        name_triggers, attr_triggers, texts = NAME_TRIGGERS, ATTR_TRIGGERS, _TEXT_TYPES
        # Pre-order, in source order (children pushed in reverse), so imports are seen before
        # the code that uses their aliases and a Call before its `func`. Names and constants
        # that no rule can match are not pushed at all: they are most of the tree.
        while stack:
            node = pop()
            handler, fields = plans[node.__class__]
            if handler is not None:
                handler(self, node)
            for name in fields:
                value = getattr(node, name)
                if value is None:
                    continue
                for item in reversed(value) if value.__class__ is list else (value,):
                    item_cls = item.__class__
                    # Walk down `a.b.c` chains whose names no rule matches without pushing them.
                    while item_cls is Attribute and (
                        item.attr not in attr_triggers and item.attr[:2] != "__"
                    ):
                        item = item.value
                        item_cls = item.__class__
                    if item_cls is Name:
                        if item.id in name_triggers or item.id[:2] == "__":
                            push(item)
                    elif item_cls is Constant:
                        if item.value.__class__ in texts and len(item.value) > 4:
                            push(item)
                    elif item is not None:  # Dict.keys holds None for **spread
                        push(item)


_TEXT_TYPES = (str, bytes)


# Fields that never hold AST nodes (or hold nodes that a parent handler reads itself, such
# as the aliases of an import); the traversal does not look at them.
NON_NODE_FIELDS = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "type_comment",
        "id",
        "attr",
        "kind",
        "arg",
        "module",
        "name",
        "names",
        "asname",
        "level",
        "conversion",
        "is_async",
        "kwd_attrs",
        "rest",
        "tag",
        "simple",
        "lineno",
    }
)
HANDLERS: dict[type, Callable[[Checker, Any], None]] = {
    ast.Import: Checker.visit_import,
    ast.ImportFrom: Checker.visit_import_from,
    ast.Name: Checker.visit_name,
    ast.Attribute: Checker.visit_attribute,
    ast.Call: Checker.visit_call,
    ast.Constant: Checker.visit_constant,
    ast.Assign: Checker.visit_assign,
    ast.AugAssign: Checker.visit_aug_assign,
    ast.AnnAssign: Checker.visit_aug_assign,
    ast.BinOp: Checker.visit_binop,
    ast.Subscript: Checker.visit_subscript,
    ast.NamedExpr: Checker.visit_named_expr,
    ast.FunctionDef: Checker.visit_def,
    ast.AsyncFunctionDef: Checker.visit_def,
}
if hasattr(ast, "MatchClass"):
    HANDLERS[ast.MatchClass] = Checker.visit_match_class
_Plan = tuple["Callable[[Checker, Any], None] | None", tuple[str, ...]]


class _Plans(dict[type, _Plan]):
    """node class -> (handler, fields to descend into, in reverse order), filled on first use."""

    def __missing__(self, cls: type) -> _Plan:
        plan = self[cls] = _plan(cls)
        return plan


PLANS = _Plans()


LEAVES = (ast.Constant, ast.Name, getattr(ast, "MatchSingleton", ast.Constant))


def _plan(cls: type) -> _Plan:
    if cls in LEAVES or not issubclass(cls, ast.AST):
        # A value that is not a node (a field this table does not know yet) is skipped.
        fields: tuple[str, ...] = ()
    else:
        fields = tuple(f for f in reversed(cls._fields) if f not in NON_NODE_FIELDS)
    return (HANDLERS.get(cls), fields)
