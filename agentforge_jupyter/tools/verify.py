"""Verification: lint the tool (source and doctest examples), then run its doctests in a fresh
sandbox kernel. Only a tool that passes both is stored.

The doctests run inside the sandbox, never on the host: a small trusted runner is sent to the
kernel with the tool's source as a string literal; it defines the tool in a fresh namespace,
runs each example and records what it printed or raised, and prints those raw outcomes as one
JSON line tagged with a random per-run marker (through the stream it saved before the tool's
code ran). The host parses the examples from the docstring itself and decides pass or fail
with :class:`doctest.OutputChecker`: the sandbox reports data, never a verdict, so tool code
that patches the kernel's output or doctest's checker cannot turn a failure into a pass.
"""

from __future__ import annotations

import doctest
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from ..lint import Finding, LintPolicy, default_policy, has_errors, lint
from ..sandbox.config import SandboxConfig
from ..sandbox.kernel import KernelSandbox
from ..sandbox.result import ExecutionResult
from .model import ExampleFailure, VerificationReport
from .parse import ToolCandidate, check_imports

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DOCTEST_FLAGS",
    "SandboxFactory",
    "doctest_runner_code",
    "lint_candidate",
    "run_doctests",
    "verify_candidate",
]

DEFAULT_TIMEOUT_S = 30.0
#: ELLIPSIS and NORMALIZE_WHITESPACE, so wide pandas output can be abbreviated with '...'.
DOCTEST_FLAGS = ("ELLIPSIS", "NORMALIZE_WHITESPACE")
_MAX_GOT_CHARS = 2000

SandboxFactory = Callable[[], KernelSandbox]


def lint_candidate(candidate: ToolCandidate, policy: LintPolicy | None = None) -> list[Finding]:
    """Lint the source, and each doctest example (it runs in the sandbox too).

    Example findings carry the line of the example in the tool source.
    """
    policy = policy or default_policy()
    findings = list(lint(candidate.source, policy))
    for example in candidate.examples:
        for f in lint(example.source, policy):
            findings.append(
                Finding(
                    f.code,
                    f.severity,
                    example.line + f.line - 1,
                    f.col,
                    f"In doctest example: {f.message}",
                    f.hint,
                )
            )
    return findings


async def verify_candidate(
    candidate: ToolCandidate,
    *,
    policy: LintPolicy | None = None,
    sandbox_factory: SandboxFactory | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> VerificationReport:
    """The whole check after parsing: allow-list, lint, doctests in a fresh sandbox."""
    started = time.monotonic()
    problems = check_imports(candidate, policy)
    findings = lint_candidate(candidate, policy)
    if problems or has_errors(findings):
        return VerificationReport(
            passed=False,
            stage="lint",
            problems=problems,
            findings=[f.to_dict() for f in findings],
            duration_s=time.monotonic() - started,
        )
    report = await run_doctests(candidate, sandbox_factory=sandbox_factory, timeout=timeout)
    # Warnings do not refuse a tool, but are kept with it for the reviewer.
    report.findings = [f.to_dict() for f in findings] + report.findings
    report.duration_s = time.monotonic() - started
    return report


async def run_doctests(
    candidate: ToolCandidate,
    *,
    sandbox_factory: SandboxFactory | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> VerificationReport:
    """Run the doctests in a fresh sandbox. Does NOT lint: trusted harness code calls this
    directly only to test the sandbox as the boundary; the registry always lints first."""
    started = time.monotonic()
    sandbox = sandbox_factory() if sandbox_factory else KernelSandbox(SandboxConfig())
    marker = f"AGENTFORGE-DOCTEST-{secrets.token_hex(8)}:"
    try:
        await sandbox.start()
        isolation = sandbox.isolation.level if sandbox.isolation else None
        result = await sandbox.execute(doctest_runner_code(candidate, marker), timeout=timeout)
    finally:
        await sandbox.shutdown()
    report = _report_from_result(candidate, result, marker, timeout)
    report.isolation = isolation
    report.duration_s = time.monotonic() - started
    return report


def _report_from_result(
    candidate: ToolCandidate, result: ExecutionResult, marker: str, timeout: float
) -> VerificationReport:
    payload = _payload(result.stdout, marker)
    if result.status == "timeout":
        return _sandbox_failure(
            result,
            f"The doctests did not finish within {timeout:g} s (the sandbox interrupted them). "
            "Make the examples small and make sure the function cannot loop forever.",
        )
    if payload is None:
        what = (
            f"{result.error.name}: {result.error.value}"
            if result.error
            else f"status {result.status}"
        )
        notes = "; ".join(result.notes)
        return _sandbox_failure(
            result,
            f"The doctests did not complete in the sandbox ({what}{'; ' + notes if notes else ''})."
            " The tool must not exit, crash the kernel or exhaust its limits.",
        )
    if payload.get("load_error"):
        return VerificationReport(
            passed=False,
            stage="doctest",
            problems=[
                f"Defining the tool failed in the sandbox: {payload['load_error']}. Check its "
                "imports and default values."
            ],
            sandbox_status=result.status,
        )
    failures, run = judge_outcomes(candidate, payload.get("outcomes"))
    return VerificationReport(
        passed=not failures and run > 0,
        stage="passed" if not failures and run > 0 else "doctest",
        problems=[] if run > 0 else ["No doctest example ran."],
        examples_run=run,
        failures=failures,
        sandbox_status=result.status,
    )


def judge_outcomes(candidate: ToolCandidate, outcomes: Any) -> tuple[list[ExampleFailure], int]:
    """Host-side verdict: compare each example's raw outcome from the sandbox with what the
    docstring (parsed here, on the host) expects. Returns (failures, examples run)."""
    examples = _host_examples(candidate)
    if not isinstance(outcomes, list):
        outcomes = []
    checker = doctest.OutputChecker()
    flags = _flags()
    failures: list[ExampleFailure] = []
    for i, example in enumerate(examples):
        line = candidate.examples[i].line if i < len(candidate.examples) else example.lineno + 1
        outcome = outcomes[i] if i < len(outcomes) and isinstance(outcomes[i], dict) else None
        if outcome is None:
            failures.append(ExampleFailure(line, example.source, example.want, "", "not run"))
            continue
        got = str(outcome.get("got", ""))[:_MAX_GOT_CHARS]
        raised = outcome.get("exception")
        if raised is None:
            if not checker.check_output(example.want, got, flags):
                failures.append(ExampleFailure(line, example.source, example.want, got))
            continue
        raised = str(raised)[:_MAX_GOT_CHARS]
        expected = example.exc_msg
        if expected is None or not checker.check_output(expected, raised, flags):
            failures.append(ExampleFailure(line, example.source, example.want, got, raised))
    return failures, len(examples)


def _flags() -> int:
    value = 0
    for flag in DOCTEST_FLAGS:
        value |= getattr(doctest, flag)
    return value


def _host_examples(candidate: ToolCandidate) -> list[doctest.Example]:
    return doctest.DocTestParser().get_examples(candidate.docstring, candidate.name)


def _sandbox_failure(result: ExecutionResult, problem: str) -> VerificationReport:
    return VerificationReport(
        passed=False, stage="sandbox", problems=[problem], sandbox_status=result.status
    )


def _payload(stdout: str, marker: str) -> dict[str, Any] | None:
    found = None
    for line in stdout.splitlines():
        if line.startswith(marker):
            found = line[len(marker) :]
    if found is None:
        return None
    try:
        data = json.loads(found)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def doctest_runner_code(candidate: ToolCandidate, marker: str) -> str:
    """Trusted code sent to the sandbox kernel: define the tool, run each example, print the
    raw outcomes (what it printed, what it raised) as JSON. No verdict is made here."""
    return f"""
def _af_run_doctests():
    import doctest as _af_doctest
    import io as _af_io
    import json as _af_json
    import sys as _af_sys
    import traceback as _af_tb

    out = _af_sys.stdout
    write = type(out).write
    source = {candidate.source!r}
    name = {candidate.name!r}
    docstring = {candidate.docstring!r}
    cap = {_MAX_GOT_CHARS}
    namespace = {{"__name__": "agentforge_tools." + name}}

    def emit(payload):
        write(out, {marker!r} + _af_json.dumps(payload) + "\\n")

    try:
        exec(compile(source, "<tool " + name + ">", "exec"), namespace)
    except BaseException as exc:
        emit({{"load_error": "".join(_af_tb.format_exception_only(type(exc), exc)).strip()}})
        return
    examples = _af_doctest.DocTestParser().get_examples(docstring, name)
    outcomes = []
    hook = _af_sys.displayhook
    for example in examples:
        buffer = _af_io.StringIO()
        raised = None
        _af_sys.stdout, _af_sys.displayhook = buffer, _af_sys.__displayhook__
        try:
            exec(compile(example.source, "<doctest " + name + ">", "single"), namespace)
        except BaseException as exc:
            raised = _af_tb.format_exception_only(type(exc), exc)[-1]
        finally:
            _af_sys.stdout, _af_sys.displayhook = out, hook
        outcomes.append({{"got": buffer.getvalue()[:cap], "exception": raised}})
    emit({{"outcomes": outcomes}})


_af_run_doctests()
del _af_run_doctests
"""
