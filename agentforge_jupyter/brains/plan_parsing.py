"""Tolerant parsing of brain replies: plans (JSON) and code (Python).

Models wrap JSON in fences, add prose before and after it, or return the steps list alone. We
accept all of that, then validate strictly; what still fails raises an error whose message is
written for the model, because the agent sends it back once asking for a fixed reply.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from typing import Any

from agentforge_jupyter.brains.base import Plan, PlanStep
from agentforge_jupyter.brains.errors import CodeParseError, PlanParseError

__all__ = [
    "PLAN_EXAMPLE",
    "PLAN_SCHEMA",
    "extract_code",
    "extract_code_blocks",
    "parse_plan",
    "plan_response_format",
    "plan_to_json",
]

_STEP_FIELDS = ("id", "title", "rationale", "expected")

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "goal": {"type": "string", "description": "The analysis goal, restated."},
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "s1, s2, ... in order."},
                    "title": {"type": "string", "description": "What the step does."},
                    "rationale": {"type": "string", "description": "Why the goal needs it."},
                    "expected": {"type": "string", "description": "What it should show."},
                },
                "required": list(_STEP_FIELDS),
                "additionalProperties": False,
            },
        },
    },
    "required": ["goal", "steps"],
    "additionalProperties": False,
}

PLAN_EXAMPLE = (
    '{"goal": "...", "steps": [{"id": "s1", "title": "...", "rationale": "...", '
    '"expected": "..."}]}'
)

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_LANGS = {"python", "py", "python3", "ipython", "ipython3", "pycon"}
# Keys models use instead of ours, mapped to ours (first match wins).
_STEP_ALIASES = {
    "title": ("title", "name", "step", "action", "description", "task"),
    "rationale": ("rationale", "reason", "why", "justification"),
    "expected": ("expected", "expected_output", "expectation", "output", "result"),
}


def plan_response_format() -> dict[str, Any]:
    """The ``response_format`` to send with plan requests to endpoints that accept json_schema."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "analysis_plan", "schema": PLAN_SCHEMA, "strict": True},
    }


def plan_to_json(plan: Plan) -> str:
    """A plan as the pretty JSON a brain is expected to reply with."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------- plans


def parse_plan(text: str, goal: str) -> Plan:
    """The plan in a reply: a JSON object (fenced or not, prose around it or not), validated.

    ``goal`` is the user's goal and wins over the one the model restated (used only when
    ``goal`` is empty). Raises :class:`PlanParseError` with a message a model can act on.
    """
    if not text or not text.strip():
        raise PlanParseError(*_for_model("the reply was empty"))
    data = _find_json(text)
    if data is None:
        raise PlanParseError(*_for_model("no JSON object was found in the reply"))
    return _plan_from_data(data, goal)


def _for_model(problem: str) -> tuple[str, str]:
    """(the message for the model, the problem alone for the user)."""
    return (
        f"The plan could not be used: {problem}. Reply with only one JSON object of the form "
        f"{PLAN_EXAMPLE}, with at least one step; each step needs a non-empty title.",
        problem,
    )


def _find_json(text: str) -> Any:
    """The first JSON object (or array) that decodes: fenced blocks first, then the text."""
    candidates = [body for _lang, body in _fences(text)]
    candidates.append(text)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        stripped = candidate.strip()
        try:
            whole = json.loads(stripped)
        except ValueError:
            whole = None
        if isinstance(whole, (dict, list)) and whole:
            return whole
        # raw_decode at each opening brace tolerates prose before and after the object.
        starts = [m.start() for m in re.finditer(r"[{\[]", stripped)][:200]
        for start in starts:
            try:
                value, _end = decoder.raw_decode(stripped, start)
            except ValueError:
                continue
            if isinstance(value, dict) or (isinstance(value, list) and value):
                return value
    return None


def _plan_from_data(data: Any, goal: str) -> Plan:
    if isinstance(data, dict) and "steps" not in data:
        # {"plan": {...}} or {"plan": [...]}: a wrapper some models add.
        inner = data.get("plan")
        if isinstance(inner, (dict, list)):
            data = inner if isinstance(inner, dict) else {"steps": inner}
    if isinstance(data, list):
        data = {"steps": data}
    if not isinstance(data, dict):
        raise PlanParseError(*_for_model(f"the JSON is a {type(data).__name__}, not an object"))
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        raise PlanParseError(*_for_model('the object has no "steps" list'))
    if not raw_steps:
        raise PlanParseError(*_for_model('"steps" is empty'))
    problems: list[str] = []
    steps = [_step_from_data(raw, i, problems) for i, raw in enumerate(raw_steps, start=1)]
    if problems:
        raise PlanParseError(*_for_model("; ".join(problems[:5])))
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids) or any(not i for i in ids):
        for number, step in enumerate(steps, start=1):
            step.id = f"s{number}"
    restated = data.get("goal")
    final_goal = goal or (restated if isinstance(restated, str) else "")
    return Plan(goal=final_goal, steps=steps)


def _step_from_data(raw: Any, number: int, problems: list[str]) -> PlanStep:
    if isinstance(raw, str) and raw.strip():
        return PlanStep(id=f"s{number}", title=raw.strip())
    if not isinstance(raw, dict):
        problems.append(f"step {number} is a {type(raw).__name__}, not an object")
        return PlanStep(id=f"s{number}", title="")
    fields: dict[str, str] = {}
    for name, aliases in _STEP_ALIASES.items():
        value = next((raw[a] for a in aliases if raw.get(a) not in (None, "")), "")
        if not isinstance(value, (str, int, float)):
            problems.append(f'step {number} has a non-text "{name}"')
            value = ""
        fields[name] = str(value).strip()
    if not fields["title"]:
        problems.append(f'step {number} has no "title"')
    raw_id = raw.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        step_id = f"s{raw_id}"
    elif isinstance(raw_id, str):
        step_id = raw_id.strip()
    else:
        step_id = ""
    return PlanStep(id=step_id, **fields)


# --------------------------------------------------------------------------- code


def _fences(text: str) -> list[tuple[str, str]]:
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE_RE.finditer(text)]


def extract_code(text: str) -> str:
    """The Python code in a reply: the first fenced python block, else the first unlabelled
    block, else the reply itself when it is bare code (leading prose lines are dropped when
    the rest parses). Raises :class:`CodeParseError` when there is no code: an empty reply,
    fenced blocks in other languages only, or prose with no fenced block."""
    if not text or not text.strip():
        raise CodeParseError(
            "The reply was empty. Reply with the step's code in one ```python fenced block."
        )
    fences = _fences(text)
    for wanted in (_PYTHON_LANGS, {""}):
        for lang, body in fences:
            if lang in wanted and body.strip():
                return _dedent_block(body)
    if fences and not any(lang in _PYTHON_LANGS or lang == "" for lang, _ in fences):
        langs = ", ".join(sorted({lang for lang, _ in fences}))
        raise CodeParseError(
            f"The reply has fenced blocks ({langs}) but no Python block. Reply with the step's "
            "code in one ```python fenced block."
        )
    code = _bare_code(text)
    if code is None:
        raise CodeParseError(
            "The reply has no ```python block, and its text is not Python code. Reply with "
            "the step's code in one ```python fenced block."
        )
    return code


def extract_code_blocks(text: str) -> list[str]:
    """Every non-empty fenced python (or unlabelled) block of a reply, in order."""
    return [
        _dedent_block(body)
        for lang, body in _fences(text or "")
        if (lang in _PYTHON_LANGS or lang == "") and body.strip()
    ]


def _dedent_block(body: str) -> str:
    return textwrap.dedent(body).strip("\n") + "\n"


def _bare_code(text: str) -> str | None:
    """The reply as code when it is code: it parses (after dropping up to four leading prose
    lines such as "Here is the code:") and does more than name a value ("Sure" parses too)."""
    lines = text.strip("\n").splitlines()
    for start in range(min(len(lines), 5)):
        candidate = "\n".join(lines[start:]).strip("\n")
        if candidate and _looks_like_code(candidate):
            return candidate + "\n"
    return None


def _looks_like_code(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    trivial = (ast.Name, ast.Constant)
    return any(
        not (isinstance(node, ast.Expr) and isinstance(node.value, trivial)) for node in tree.body
    )
