"""Text from data, a model or a sandbox, made safe for where it is shown.

Three destinations, three rules:

* `one_line`: a comment, a cell header, a title, a table cell. Every line separator that
  `str.splitlines()` knows and every other control character becomes a space, so the text can
  never start a new statement in the code around it.
* `markdown_text`: a Markdown cell (plan, insights, titles) that nbconvert or JupyterLab will
  render. Raw HTML is escaped, images and links become plain text, so a hostile string cannot
  load a URL (an `<img>` that leaks data) or run script.
* `terminal_text`: what the CLI prints. ANSI/OSC/DCS escape sequences and C0/C1 control
  characters other than newline and tab are removed (OSC 52 writes the user's clipboard).
"""

from __future__ import annotations

import re

# Everything `str.splitlines()` treats as a line boundary.
LINE_SEPARATORS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

# C0 controls, DEL, C1 controls; plus the separators above (some are outside these ranges).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidirectional overrides can make code read differently from how it runs (trojan source).
_BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

# ECMA-48 sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings up to BEL or ST, and
# two-character ESC sequences; also their 8-bit C1 forms.
_ANSI_RE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]                        # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # OSC DCS ...
  | \x1b[@-Z\\-_]                                          # other ESC Fe sequences
  | \x1b[ -/]*[0-~]                                        # ESC nF / Fp / Fs
    """,
    re.VERBOSE,
)
_TERMINAL_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Outside code spans, these characters start HTML, entities, links, images and autolinks; a
# CommonMark backslash escape shows each as itself. Code spans are literal already.
_MD_ACTIVE_RE = re.compile(r"([\\<>\[\]&])")
_MD_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# Renderers with GFM autolinks (nbconvert's mistune, JupyterLab) turn bare URLs into links; a
# backslash before the scheme's colon or the dot after "www" keeps them text.
_MD_AUTOLINK_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,31}):(?=//)|\b(www)\.")


def one_line(text: object, limit: int | None = None) -> str:
    """`text` as a single line with no control characters (for comments, headers, titles)."""
    value = "" if text is None else str(text)
    value = _BIDI_RE.sub("", value)
    value = _CONTROL_RE.sub(" ", value)
    value = " ".join(value.split())
    if limit is not None and len(value) > limit:
        value = value[: max(limit - 1, 0)].rstrip() + "…"
    return value


def comment(text: object, limit: int | None = None) -> str:
    """A Python comment line holding `text`, which can never end the comment early."""
    return "# " + one_line(text, limit)


def terminal_text(text: object) -> str:
    """`text` with terminal escape sequences and control characters (but \\n and \\t) removed."""
    value = "" if text is None else str(text)
    value = _ANSI_RE.sub("", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _BIDI_RE.sub("", value)
    return _TERMINAL_CONTROL_RE.sub("", value)


def markdown_text(text: object) -> str:
    """`text` as inert Markdown: no raw HTML, no images, no links, no entities.

    Emphasis, lists and code spans keep working; nothing in the result can load a resource or
    run script once rendered (nbconvert, JupyterLab, GitHub); bare URLs stay plain text.
    """
    value = terminal_text(text)
    parts: list[str] = []
    last = 0
    for match in _MD_CODE_SPAN_RE.finditer(value):
        parts.append(_inert(value[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_inert(value[last:]))
    return "".join(parts)


def _inert(text: str) -> str:
    """Markdown outside code spans, escaped so that nothing in it is active."""
    text = _MD_ACTIVE_RE.sub(r"\\\1", text)
    return _MD_AUTOLINK_RE.sub(lambda m: f"{m.group(1)}\\:" if m.group(1) else "www\\.", text)
