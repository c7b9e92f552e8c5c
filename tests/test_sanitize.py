"""The text sanitisers: one line for code, inert Markdown, clean terminal text."""

from __future__ import annotations

import ast

import pytest

from agentforge_jupyter.sanitize import (
    LINE_SEPARATORS,
    comment,
    markdown_text,
    one_line,
    terminal_text,
)


@pytest.mark.parametrize("separator", list(LINE_SEPARATORS))
def test_comment_never_ends_early(separator: str) -> None:
    hostile = f"amount{separator}import os{separator}#"
    code = f"{comment(hostile)}\nx = 1\n"
    tree = ast.parse(code)
    assert [type(node).__name__ for node in tree.body] == ["Assign"]
    assert len(code.splitlines()) == 2


def test_one_line_removes_controls_and_bidi() -> None:
    assert one_line("a\x00b\x1b[31mc\u202ed") == "a b [31mcd"
    assert one_line(None) == ""
    assert one_line("x" * 50, limit=10) == "x" * 9 + "…"


def test_terminal_text_strips_escape_sequences() -> None:
    osc52 = "\x1b]52;c;aGVsbG8=\x07"
    text = f"ok\x1b[2J{osc52}\x9b31m red\x1bP1;2|x\x1b\\ end\r\nnext\ttab\x07"
    assert terminal_text(text) == "ok red end\nnext\ttab"


def test_markdown_text_is_inert() -> None:
    hostile = "See ![x](http://h/p.png?d=abc) <img src=x onerror=alert(1)> [a](http://e) &#60;"
    safe = markdown_text(hostile)
    assert "![" not in safe and "](" not in safe.replace("\\](", "")
    assert "<img" not in safe.replace("\\<img", "")
    assert "\\&#60;" in safe


def test_markdown_text_keeps_code_spans_and_emphasis() -> None:
    text = "**East** grew; see `df[df.x > 1]`"
    assert markdown_text(text) == text


def test_markdown_renders_without_html_or_links() -> None:
    import markdown_it  # a dependency of jupyterlab; JupyterLab renders CommonMark

    hostile = "x ![i](http://h/p.png) <script>alert(1)</script> [l](javascript:alert(1)) <http://a>"
    html = markdown_it.MarkdownIt("commonmark").render(markdown_text(hostile))
    for tag in ("<img", "<script", "<a "):
        assert tag not in html
