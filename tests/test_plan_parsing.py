"""Tolerant plan parsing and code extraction (brains/plan_parsing.py)."""

from __future__ import annotations

import json

import pytest

from agentforge_jupyter.brains.base import Plan, PlanStep
from agentforge_jupyter.brains.errors import BrainReplyError, CodeParseError, PlanParseError
from agentforge_jupyter.brains.plan_parsing import (
    PLAN_SCHEMA,
    extract_code,
    extract_code_blocks,
    parse_plan,
    plan_response_format,
    plan_to_json,
)

GOAL = "Which region drove revenue?"
PLAN = {
    "goal": GOAL,
    "steps": [
        {"id": "s1", "title": "Total revenue by region", "rationale": "r1", "expected": "e1"},
        {"id": "s2", "title": "Weekly trend", "rationale": "r2", "expected": "e2"},
    ],
}
PLAN_JSON = json.dumps(PLAN)


def _titles(plan: Plan) -> list[str]:
    return [s.title for s in plan.steps]


def test_bare_json() -> None:
    plan = parse_plan(PLAN_JSON, GOAL)
    assert plan.goal == GOAL
    assert plan.steps[0] == PlanStep("s1", "Total revenue by region", "r1", "e1")
    assert _titles(plan) == ["Total revenue by region", "Weekly trend"]


@pytest.mark.parametrize(
    "text",
    [
        f"```json\n{PLAN_JSON}\n```",
        f"```\n{json.dumps(PLAN, indent=2)}\n```",
        f"Here is my plan:\n\n```json\n{PLAN_JSON}\n```\nLet me know if you want changes.",
        f"Sure! {PLAN_JSON} I hope this helps, {{not json}}.",
        f"Plan follows.\n{json.dumps(PLAN, indent=2)}\n\nNotes: step s2 may be slow.",
        f"```json\n{PLAN_JSON}",  # a reply cut off before the closing fence
    ],
    ids=["fenced", "fenced-unlabelled", "prose-around-fence", "prose-around", "trailing", "open"],
)
def test_tolerant_forms(text: str) -> None:
    assert _titles(parse_plan(text, GOAL)) == ["Total revenue by region", "Weekly trend"]


def test_users_goal_wins_over_restated_goal() -> None:
    restated = json.dumps({**PLAN, "goal": "something else"})
    assert parse_plan(restated, GOAL).goal == GOAL
    assert parse_plan(restated, "").goal == "something else"


def test_steps_list_alone_and_wrapper_and_aliases() -> None:
    steps_only = json.dumps([{"name": "Look at the data", "reason": "why"}, "Plot revenue"])
    plan = parse_plan(steps_only, GOAL)
    assert [(s.id, s.title, s.rationale) for s in plan.steps] == [
        ("s1", "Look at the data", "why"),
        ("s2", "Plot revenue", ""),
    ]
    wrapped = json.dumps({"plan": PLAN})
    assert _titles(parse_plan(wrapped, GOAL)) == ["Total revenue by region", "Weekly trend"]


def test_ids_renumbered_when_missing_or_duplicated() -> None:
    data = {"steps": [{"id": "a", "title": "x"}, {"id": "a", "title": "y"}, {"title": "z"}]}
    assert [s.id for s in parse_plan(json.dumps(data), GOAL).steps] == ["s1", "s2", "s3"]
    numeric = {"steps": [{"id": 1, "title": "x"}, {"id": 2, "title": "y"}]}
    assert [s.id for s in parse_plan(json.dumps(numeric), GOAL).steps] == ["s1", "s2"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("I could not make a plan, sorry.", "no JSON object"),
        ('{"goal": "g"}', 'no "steps" list'),
        ('{"goal": "g", "steps": []}', '"steps" is empty'),
        ('{"goal": "g", "steps": [{"id": "s1", "rationale": "r"}]}', 'step 1 has no "title"'),
        ('{"goal": "g", "steps": [42]}', "step 1 is a int"),
        ('{"goal": "g", "steps": [{"title": {"a": 1}}]}', 'non-text "title"'),
    ],
)
def test_invalid_plans_raise_actionable_errors(text: str, problem: str) -> None:
    with pytest.raises(PlanParseError) as caught:
        parse_plan(text, GOAL)
    message = str(caught.value)
    assert problem in message
    # The message tells a model exactly what to send instead.
    assert '"steps"' in message and "Reply with only one JSON object" in message
    assert isinstance(caught.value, BrainReplyError)


def test_schema_and_response_format_round_trip() -> None:
    fmt = plan_response_format()
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"] is PLAN_SCHEMA
    assert PLAN_SCHEMA["required"] == ["goal", "steps"]
    item = PLAN_SCHEMA["properties"]["steps"]["items"]
    assert item["required"] == ["id", "title", "rationale", "expected"]
    assert item["additionalProperties"] is False
    plan = parse_plan(PLAN_JSON, GOAL)
    assert parse_plan(plan_to_json(plan), GOAL) == plan


# --------------------------------------------------------------------------- code


def test_extract_first_python_block() -> None:
    text = (
        "Here you go:\n```text\nnot this\n```\n```python\nx = 1\nprint(x)\n```\n"
        "and also\n```python\ny = 2\n```"
    )
    assert extract_code(text) == "x = 1\nprint(x)\n"


@pytest.mark.parametrize("lang", ["py", "python3", "Python"])
def test_extract_python_aliases(lang: str) -> None:
    assert extract_code(f"```{lang}\nz = 3\n```") == "z = 3\n"


def test_extract_unlabelled_block_and_dedent() -> None:
    assert extract_code("Code:\n```\n    a = 1\n    b = a\n```\nDone.") == "a = 1\nb = a\n"


def test_extract_bare_code_and_leading_prose() -> None:
    assert extract_code("import pandas as pd\nprint(df.shape)") == (
        "import pandas as pd\nprint(df.shape)\n"
    )
    assert extract_code("Here is the code:\nprint(df.shape)\n") == "print(df.shape)\n"


def test_extract_unclosed_fence() -> None:
    assert extract_code("```python\nprint(1)\n") == "print(1)\n"


def test_extract_errors() -> None:
    with pytest.raises(CodeParseError, match="empty"):
        extract_code("   \n")
    with pytest.raises(CodeParseError, match=r"no Python block.*```python"):
        extract_code('```json\n{"a": 1}\n```')


@pytest.mark.parametrize(
    "prose",
    [
        "I cannot answer that without more information about the data.",
        "Sure",
        "Sure!\nLet me think about the regions first.",
    ],
)
def test_prose_without_a_code_block_says_so_instead_of_being_linted(prose: str) -> None:
    with pytest.raises(CodeParseError, match=r"no ```python block") as caught:
        extract_code(prose)
    assert "not Python code" in str(caught.value)


def test_plan_errors_carry_the_problem_alone_for_the_user() -> None:
    with pytest.raises(PlanParseError) as caught:
        parse_plan("I would look at the regions.", GOAL)
    assert caught.value.problem == "no JSON object was found in the reply"
    assert "Reply with only one JSON object" not in caught.value.problem


def test_every_python_block_of_a_reply() -> None:
    text = "```python\ndef a():\n    pass\n```\nand\n```sql\nselect 1\n```\n```\nb = 2\n```"
    assert extract_code_blocks(text) == ["def a():\n    pass\n", "b = 2\n"]
    assert extract_code_blocks("NO_TOOL") == []
