"""DABench: loading its layout and scoring `@name[value]` answers as its own script does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentforge_jupyter.evals import EvalError, run_eval
from agentforge_jupyter.evals.dabench import accuracies, extract_answers, load_dabench, score

QUESTIONS = [
    {
        "id": 1,
        "question": "What is the mean of the 'sales' column?",
        "concepts": ["Summary Statistics"],
        "constraints": "Round to two decimal places.",
        "format": "@mean_sales[value] where value is a number rounded to two decimals.",
        "file_name": "shop.csv",
        "level": "easy",
    },
    {
        "id": 2,
        "question": "Which region has the most sales, and how many rows are there?",
        "concepts": ["Summary Statistics", "Data Preprocessing"],
        "constraints": "Use all rows.",
        "format": "@top_region[name] @rows[count]",
        "file_name": "shop.csv",
        "level": "medium",
    },
    {
        "id": 3,
        "question": "What is the largest sale?",
        "concepts": ["Summary Statistics"],
        "constraints": "",
        "format": "@max_sale[value]",
        "file_name": "shop.csv",
        "level": "hard",
    },
]
LABELS = [
    {"id": 1, "common_answers": [["mean_sales", "20.00"]]},
    {"id": 2, "common_answers": [["top_region", "East"], ["rows", "4"]]},
    {"id": 3, "common_answers": [["max_sale", "40"]]},
]


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    root = tmp_path / "dabench"
    (root / "da-dev-tables").mkdir(parents=True)
    (root / "da-dev-tables" / "shop.csv").write_text(
        "region,sales\nEast,40\nWest,10\nEast,20\nNorth,10\n"
    )
    (root / "da-dev-questions.jsonl").write_text("\n".join(json.dumps(q) for q in QUESTIONS))
    (root / "da-dev-labels.jsonl").write_text("\n".join(json.dumps(a) for a in LABELS))
    return root


def _replay(path: Path, responses: dict[int, str]) -> str:
    path.write_text("\n".join(json.dumps({"id": k, "response": v}) for k, v in responses.items()))
    return f"replay:{path}"


def test_extract_answers_takes_the_last_pair_of_a_name() -> None:
    text = "first @x[1] then @y[two] and again @x[3]"
    assert extract_answers(text) == {"x": "3", "y": "two"}


def test_scoring_is_string_or_numeric_equality(bench: Path) -> None:
    tasks = {t.id: t for t in load_dabench(bench)}
    assert score(tasks["1"], "@mean_sales[20.0]") == {"mean_sales": True}
    assert score(tasks["1"], "@mean_sales[20.01]") == {"mean_sales": False}
    assert score(tasks["2"], "@top_region[East] @rows[five]") == {"top_region": True, "rows": False}
    assert score(tasks["3"], "no answer here") == {"max_sale": False}


def test_accuracies_follow_the_benchmark_definitions() -> None:
    records = [
        {"answered": True, "correctness": {"a": True}},
        {"answered": True, "correctness": {"a": True, "b": False}},
        {"answered": False, "correctness": {"a": False}},  # no response: left out
    ]
    assert accuracies(records) == {
        "by_question": 0.5,
        "by_sub_question": 0.6667,
        "proportional": 0.75,
    }


def test_run_eval_replay_reports_levels_and_missing_answers(bench: Path, tmp_path: Path) -> None:
    brain = _replay(
        tmp_path / "answers.jsonl", {1: "@mean_sales[20]", 2: "@top_region[East] @rows[3]"}
    )
    result = run_eval(f"dabench:{bench}", [brain], workers=1)
    summary = result.summary["brains"][brain]
    assert (summary["tasks"], summary["passed"]) == (3, 1)
    assert summary["by_category"]["easy"]["passed"] == 1
    assert summary["dabench"] == {
        "by_question": 0.5,
        "by_sub_question": 0.6667,
        "proportional": 0.75,
    }
    records = {r.task_id: r for r in result.store.records()}
    assert not records["3"].answered and not records["3"].passed


def test_level_filter_and_clear_errors(bench: Path, tmp_path: Path) -> None:
    brain = _replay(tmp_path / "a.jsonl", {3: "@max_sale[40]"})
    result = run_eval(f"dabench:{bench}", [brain], level="hard", workers=1)
    assert result.summary["brains"][brain]["passed"] == 1
    with pytest.raises(EvalError, match="no task in category 'expert'"):
        run_eval(f"dabench:{bench}", [brain], level="expert")
    (bench / "da-dev-labels.jsonl").write_text('{"id": 1, "common_answers": "oops"}\n')
    with pytest.raises(EvalError, match=r"common_answers must be \[\[name, value\]"):
        run_eval(f"dabench:{bench}", [brain])


def test_data_file_must_stay_inside_the_benchmark(bench: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("a\n1\n")
    hostile = {**QUESTIONS[0], "file_name": "../../secret.csv"}
    (bench / "da-dev-questions.jsonl").write_text(json.dumps(hostile))
    with pytest.raises(EvalError, match="not found under"):
        load_dabench(bench)


def test_completion_mode_asks_an_openai_compatible_brain_over_http(bench: Path) -> None:
    from agentforge_jupyter.brains.openai_brain import OpenAIBrain

    from .fakes import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        server.reply(
            "The mean is @mean_sales[20.00]", "@top_region[East] @rows[4]", "@max_sale[41]"
        )
        brain = OpenAIBrain(
            name="fake", model="m", base_url=server.base_url, api_key_env=None, retries=0
        )
        result = run_eval(f"dabench:{bench}", [brain], workers=1)
        prompts = [request.user_text for request in server.chat_requests]
    assert len(prompts) == 3
    assert any("@mean_sales[value]" in text for text in prompts)
    summary = result.summary["brains"]["fake"]
    assert (summary["passed"], summary["tasks"]) == (2, 3)
    assert summary["prompt_tokens"] > 0


def test_agent_mode_runs_the_whole_loop(bench: Path) -> None:
    result = run_eval(f"dabench:{bench}", ["offline"], mode="agent", limit=1, workers=1)
    record = result.store.records()[0]
    # The offline brain writes no @name[value] pairs: the answer is scored and fails, but it
    # came from a real run (insights written from the sandbox's output).
    assert record.answered and not record.passed
    assert record.correctness == {"mean_sales": False}
    runs = list((result.store.dir.parent.parent / "runs").iterdir())
    assert len(runs) == 1
