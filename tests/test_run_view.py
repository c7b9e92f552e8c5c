"""The run display renders only escaped text, real PNGs and validated tables."""

from __future__ import annotations

import base64
import io

from agentforge_jupyter.events import Event
from agentforge_jupyter.sandbox.result import PNG, TABLE
from agentforge_jupyter.widgets.run_view import RunView

HOSTILE = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"


def png_b64() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def events(*specs: tuple[str, dict]) -> list[Event]:
    return [Event("r1", i, kind, 0.0, data) for i, (kind, data) in enumerate(specs, 1)]


def view_of(*specs: tuple[str, dict]) -> RunView:
    view = RunView()
    for event in events(*specs):
        view.apply(event)
    return view


STEP = {"id": "s1", "title": HOSTILE, "rationale": "", "expected": ""}


def test_hostile_text_is_escaped_everywhere() -> None:
    view = view_of(
        ("run_start", {"goal": HOSTILE, "dataset": {"name": HOSTILE}, "brain": "b", "model": "m"}),
        ("plan", {"plan": {"goal": HOSTILE, "steps": [STEP]}}),
        ("step_start", {"step": STEP, "index": 1, "total": 1}),
        ("code", {"step": "s1", "attempt": 1, "code": HOSTILE}),
        (
            "output",
            {"step": "s1", "attempt": 1, "kind": "stream", "name": "stdout", "text": HOSTILE},
        ),
        (
            "output",
            {"step": "s1", "attempt": 1, "kind": "display", "mime": "text/plain", "data": HOSTILE},
        ),
        ("insight", {"index": 0, "text": HOSTILE}),
        ("run_end", {"status": "failed", "reason": HOSTILE, "duration_s": 1.0}),
    )
    html = view.html()
    assert "<script" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;") >= 6


def test_png_only_from_a_real_png() -> None:
    good, bad = png_b64(), base64.b64encode(b"<svg onload=alert(1)>").decode()
    view = view_of(
        ("step_start", {"step": {**STEP, "title": "t"}, "index": 1, "total": 1}),
        ("output", {"step": "s1", "attempt": 1, "kind": "display", "mime": PNG, "data": good}),
        ("output", {"step": "s1", "attempt": 1, "kind": "display", "mime": PNG, "data": bad}),
    )
    html = view.html()
    assert html.count("<img src='data:image/png;base64,") == 1
    assert "[invalid image]" in html


def test_tables_render_from_validated_json_with_escaped_cells() -> None:
    table = {
        "columns": ["a"],
        "index": ["0"],
        "rows": [[HOSTILE]],
        "dtypes": ["object"],
        "total_rows": 10,
        "total_columns": 1,
    }
    view = view_of(
        ("step_start", {"step": {**STEP, "title": "t"}, "index": 1, "total": 1}),
        ("output", {"step": "s1", "attempt": 1, "kind": "display", "mime": TABLE, "data": table}),
    )
    html = view.html()
    assert "<table" in html and "showing 1 of 10 rows" in html and "<script" not in html


def test_repairs_are_folded_and_the_last_attempt_is_shown() -> None:
    view = view_of(
        ("step_start", {"step": {**STEP, "title": "t"}, "index": 1, "total": 1}),
        ("code", {"step": "s1", "attempt": 0, "code": "import os"}),
        (
            "lint",
            {
                "step": "s1",
                "attempt": 0,
                "ok": False,
                "findings": [{"code": "AF101", "line": 1, "message": "no os"}],
            },
        ),
        ("repair", {"step": "s1", "attempt": 0, "reason": "lint", "error": "AF101"}),
        ("code", {"step": "s1", "attempt": 1, "code": "print(1)"}),
        (
            "execution",
            {
                "step": "s1",
                "attempt": 1,
                "status": "ok",
                "duration_s": 0.1,
                "state_lost": False,
                "notes": [],
            },
        ),
    )
    html = view.html()
    assert html.count("<details>") == 1
    assert html.index("import os") < html.index("</details>") < html.index("print(1)")


def test_quiet_shows_summary_and_insights_only() -> None:
    view = RunView(quiet=True)
    for event in events(
        ("step_start", {"step": {**STEP, "title": "hidden step"}, "index": 1, "total": 1}),
        ("insight", {"index": 0, "text": "seen"}),
    ):
        view.apply(event)
    html = view.html()
    assert "hidden step" not in html and "seen" in html


def test_a_hostile_column_name_in_a_table_is_escaped() -> None:
    column = "<img src=x onerror=alert(1)>"
    table = {
        "columns": [column],
        "index": [column],
        "rows": [[1]],
        "dtypes": ["int64"],
        "total_rows": 1,
        "total_columns": 1,
    }
    view = view_of(
        ("step_start", {"step": {**STEP, "title": "t"}, "index": 1, "total": 1}),
        ("output", {"step": "s1", "attempt": 1, "kind": "display", "mime": TABLE, "data": table}),
    )
    html = view.html()
    assert "<img src=x" not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 2
    assert "<th>&lt;img" in html and "showing" not in html


def test_a_malformed_table_is_shown_as_escaped_text() -> None:
    view = view_of(
        ("step_start", {"step": {**STEP, "title": "t"}, "index": 1, "total": 1}),
        (
            "output",
            {"step": "s1", "attempt": 1, "kind": "display", "mime": TABLE, "data": {"x": HOSTILE}},
        ),
    )
    html = view.html()
    assert "<table" not in html and "<script" not in html and "&lt;script&gt;" in html


def test_html_table_escapes_header_caption_and_cells() -> None:
    from agentforge_jupyter.render import html_table

    html = html_table([HOSTILE], [[HOSTILE], [None]], caption=HOSTILE)
    assert "<script" not in html and html.count("&lt;script&gt;") == 3
    assert "<td></td>" in html  # None is an empty cell, not "None"


def test_tool_proposal_source_is_shown_escaped() -> None:
    from types import SimpleNamespace

    from agentforge_jupyter.agent import ToolProposal
    from agentforge_jupyter.widgets.tool_proposal import proposal_buttons

    code = 'def f(x):\n    """<script>alert(1)</script>"""\n    return x\n'
    run = SimpleNamespace(tool_proposals=[ToolProposal("f", code, "s1", verified=True)])
    box = proposal_buttons(run)
    shown = box.children[0].children[0].value
    assert "<script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<details open>" in shown and "inside the sandbox" in shown


def test_bundle_names_the_run_for_the_lab_extension_once_it_started() -> None:
    from agentforge_jupyter.widgets.run_view import RUN_MIME_TYPE

    assert RUN_MIME_TYPE not in RunView().bundle()
    start = {
        "goal": "g",
        "dataset": None,
        "brain": "b",
        "brain_kind": "offline",
        "model": "m",
        "limits": {},
        "session_id": "s",
    }
    bundle = view_of(("run_start", start)).bundle()
    assert bundle[RUN_MIME_TYPE] == {"run_id": "r1"}
    assert "text/html" in bundle and "text/plain" in bundle  # the fallback elsewhere
