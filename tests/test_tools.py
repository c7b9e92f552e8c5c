"""The tool registry: parsing, verification in a real sandbox, versions, life cycle."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentforge_jupyter.sandbox import SyncSandbox
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.tools import (
    ToolNotFoundError,
    ToolParseError,
    ToolRegistry,
    ToolRejectedError,
    VerificationReport,
    parse_ref,
    parse_tool,
    run_provenance,
    tool_sources_for_export,
    write_tools_package,
)
from agentforge_jupyter.tools.parse import normalize_source

GOOD = '''
import pandas as pd


def double_total(df: pd.DataFrame, column: str, factor: int = 2) -> int:
    """Total of a column multiplied by a factor.

    Tags: demo, sum

    >>> double_total(pd.DataFrame({"x": [1, 2]}), "x")
    6
    >>> double_total(pd.DataFrame({"x": [1, 2]}), "x", factor=10)
    30
    """
    return int(df[column].sum()) * factor
'''

GOOD_V2 = GOOD.replace(
    "return int(df[column].sum()) * factor",
    "total = df[column].sum()\n    return int(total) * factor",
)


def passed() -> VerificationReport:
    """A passing report, for tests of storage that do not need to run the sandbox again."""
    return VerificationReport(True, "passed", examples_run=1)


def simple_tool(name: str, body: str = "return x + 1", doc: str = "Add one.") -> str:
    """A small valid tool; ``body`` lines after the first carry their 4-space indent."""
    header = textwrap.dedent(
        f'''
        def {name}(x: int) -> int:
            """{doc}

            >>> {name}(1)
            2
            """
        '''
    )
    return header + "    " + body + "\n"


def store(registry: ToolRegistry, source: str, **kw) -> object:
    """Parse (real), lint (real) and store with a passing report: no sandbox."""
    from agentforge_jupyter.tools import lint_candidate

    candidate = parse_tool(source)
    assert not [f for f in lint_candidate(candidate) if f.severity == "error"]
    return registry.store_verified(candidate, passed(), **kw)


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    return ToolRegistry(StateDir(tmp_path / "state"), timeout=20)


# ----------------------------------------------------------------------------- parsing


def test_parse_extracts_signature_params_examples_and_tags() -> None:
    candidate = parse_tool(GOOD)
    assert candidate.name == "double_total"
    assert candidate.signature == (
        "double_total(df: pd.DataFrame, column: str, factor: int=2) -> int"
    )
    assert [(p.name, p.annotation, p.default) for p in candidate.params] == [
        ("df", "pd.DataFrame", None),
        ("column", "str", None),
        ("factor", "int", "2"),
    ]
    assert candidate.returns == "int"
    assert candidate.tags == ("demo", "sum")
    assert candidate.imports == ("pandas",)
    assert [e.want for e in candidate.examples] == ["6\n", "30\n"]
    lines = normalize_source(GOOD).splitlines()
    assert lines[candidate.examples[0].line - 1].strip().startswith(">>> double_total")
    assert lines[candidate.examples[1].line - 1].strip().endswith("factor=10)")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (simple_tool("a") + simple_tool("b"), "Found 2 top-level functions"),
        ("def f(x):\n    return x\n", "has no docstring"),
        ('def f(x):\n    """Add one."""\n    return x + 1\n', "has no doctest example"),
        ("x = 1\n" + simple_tool("f"), "only imports may precede the function"),
        ("import math\n", "No function found"),
        (simple_tool("f", body="return x + THRESHOLD"), "'THRESHOLD' is not defined"),
        (simple_tool("f", body="return [y + offset for y in [x]][0]"), "'offset' is not defined"),
        (simple_tool("f", body="global counter\n    counter = x\n    return x"), "global counter"),
        ("@staticmethod\n" + simple_tool("f").lstrip(), "decorators are not allowed"),
        (simple_tool("BadName"), "not a valid tool name"),
        (simple_tool("f").replace("def f", "async def f"), "async functions"),
        ("from math import *\n" + simple_tool("f"), "star imports"),
        ("def f(x:\n", "syntax error"),
        (simple_tool("f").replace(">>> f(1)", ">>>f(1)"), "cannot be parsed as doctests"),
        (
            "def f(x, d=np.nan):\n" + textwrap.indent('"""D.\n\n>>> f(1)\n"""\nreturn x\n', "    "),
            "'np' is not defined at definition time",
        ),
    ],
)
def test_parse_refuses_with_a_clear_message(source: str, expected: str) -> None:
    with pytest.raises(ToolParseError) as info:
        parse_tool(source)
    assert expected in str(info.value)
    assert info.value.report.stage == "parse"


def test_parse_accepts_imports_inside_the_function_and_nested_scopes() -> None:
    source = simple_tool(
        "f",
        body=(
            "import math\n    from statistics import mean\n"
            "    def helper(v):\n        return math.floor(v)\n"
            "    return helper(mean([x, x])) + len([i for i in range(1)])"
        ),
    )
    candidate = parse_tool(source)
    assert candidate.imports == ("math", "statistics")


def test_name_must_match_the_function() -> None:
    with pytest.raises(ToolParseError, match="does not match the function name"):
        parse_tool(simple_tool("f"), name="g")
    assert parse_tool(simple_tool("f"), name="f").name == "f"


def test_parse_ref() -> None:
    assert parse_ref("top_n") == ("top_n", None)
    assert parse_ref("top_n@12") == ("top_n", 12)
    for bad in ("top_n@x", "top_n@0", "a b"):
        with pytest.raises(ToolNotFoundError):
            parse_ref(bad)


# ----------------------------------------------------------------------------- refusals


def test_disallowed_import_is_refused_and_nothing_stored(registry: ToolRegistry) -> None:
    source = simple_tool("f", body="import os\n    return x + 1")
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    assert info.value.report.stage == "lint"
    assert "import of 'os' is not allowed" in str(info.value)
    assert any(f["code"] == "AF101" for f in info.value.findings)
    assert not registry.path.exists()


def test_lint_error_refuses(registry: ToolRegistry) -> None:
    source = simple_tool("f", body="return eval('x + 1')")
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    assert info.value.report.stage == "lint"
    assert [f["code"] for f in info.value.findings] == ["AF201"]
    assert "AF201 error" in str(info.value)
    assert registry.names() == []


def test_doctest_examples_are_linted_too(registry: ToolRegistry) -> None:
    source = simple_tool("f").replace(">>> f(1)", ">>> import subprocess\n    >>> f(1)")
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    [finding] = info.value.findings
    assert finding["code"] == "AF101"
    assert finding["message"].startswith("In doctest example")
    assert finding["line"] == parse_tool(source).examples[0].line
    assert registry.names() == []


# ----------------------------------------------------------------------------- sandbox


def test_failing_doctest_reports_expected_and_got(registry: ToolRegistry) -> None:
    source = GOOD.replace("    30\n", "    31\n")
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    report = info.value.report
    assert report.stage == "doctest"
    assert report.examples_run == 2
    [failure] = report.failures
    assert (failure.expected, failure.got) == ("31\n", "30\n")
    assert failure.line == parse_tool(source).examples[1].line
    message = str(info.value)
    assert "1 of 2 doctest example(s) failed" in message
    assert "expected: 31" in message and "got:      30" in message
    assert not registry.path.exists()


def test_register_success_then_versions(registry: ToolRegistry) -> None:
    first = registry.register(GOOD)
    assert (first.ref, first.status) == ("double_total@1", "verified")
    assert first.verification["passed"] and first.verification["examples_run"] == 2
    assert first.verification["isolation"] in ("full", "reduced")
    assert first.provenance == {"source": "user"}
    assert first.created.endswith("+00:00")

    second = registry.register(
        GOOD_V2, provenance=run_provenance("run-42", "offline"), tags=["extra"]
    )
    assert second.version == 2
    assert second.provenance == {"source": "run", "run_id": "run-42", "brain": "offline"}
    assert second.tags == ("extra", "demo", "sum")
    # The same source again is not a new version.
    assert registry.register(GOOD_V2).ref == "double_total@2"
    assert registry.get("double_total").version == 2
    assert registry.get("double_total@1").source == normalize_source(GOOD)
    assert [t.version for t in registry.versions("double_total")] == [1, 2]
    with pytest.raises(ToolNotFoundError, match="no version 7"):
        registry.get("double_total@7")
    data = json.loads(registry.path.read_text())
    assert data["schema"] == "agentforge.tools"
    assert data["items"]["double_total"]["next_version"] == 3


def test_tool_that_raises_fails_its_doctest(registry: ToolRegistry) -> None:
    store(registry, simple_tool("keep"))
    before = registry.path.read_bytes()
    source = simple_tool("boom", body="return x / 0")
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    [failure] = info.value.failures
    assert failure.exception is not None and "ZeroDivisionError" in failure.exception
    assert "raised:   ZeroDivisionError" in str(info.value)
    assert registry.path.read_bytes() == before


def test_tool_that_loops_times_out_without_harming_the_registry(tmp_path: Path) -> None:
    registry = ToolRegistry(StateDir(tmp_path / "state"), timeout=3)
    store(registry, simple_tool("keep"))
    before = registry.path.read_bytes()
    with pytest.raises(ToolRejectedError) as info:
        registry.register(simple_tool("spin", body="while True:\n        x += 1"))
    assert info.value.report.stage == "sandbox"
    assert "did not finish within 3 s" in str(info.value)
    assert registry.path.read_bytes() == before
    # The registry still works: a good tool registers right after.
    assert registry.register(simple_tool("next_one")).ref == "next_one@1"


def test_tool_that_fails_at_definition_time(registry: ToolRegistry) -> None:
    source = "import sklearn.not_a_module\n" + simple_tool("f")
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    assert "Defining the tool failed in the sandbox" in str(info.value)
    assert "ModuleNotFoundError" in str(info.value)


def test_reverify_marks_tools_that_now_fail(registry: ToolRegistry) -> None:
    good = store(registry, simple_tool("ok_tool"))
    bad = store(registry, simple_tool("wrong", body="return x + 2"))
    reports = registry.reverify()
    assert reports[good.ref].passed and not reports[bad.ref].passed
    assert registry.get("ok_tool").status == "verified"
    assert registry.get("wrong").status == "failed"
    assert [t.name for t in registry.active()] == ["ok_tool"]


# ----------------------------------------------------------------------------- life cycle


def test_deprecate_and_remove(registry: ToolRegistry) -> None:
    store(registry, simple_tool("a"))
    store(registry, simple_tool("a", body="return 1 + x"))
    store(registry, simple_tool("b"))
    changed = registry.deprecate("a@2")
    assert [t.ref for t in changed] == ["a@2"]
    assert registry.get("a").ref == "a@1"  # latest verified
    registry.deprecate("a")
    assert registry.get("a").status == "deprecated"
    assert [t.name for t in registry.active()] == ["b"]
    assert {t.name for t in registry.list()} == {"a", "b"}
    # A new registration brings the name back, with a fresh number.
    assert store(registry, simple_tool("a", body="return x + 1  # v3")).version == 3
    assert registry.remove("a@1") == 1
    assert [t.version for t in registry.versions("a")] == [2, 3]
    assert registry.remove("a") == 2
    with pytest.raises(ToolNotFoundError, match="No tool named 'a'"):
        registry.get("a")
    with pytest.raises(ToolNotFoundError):
        registry.deprecate("zzz")
    with pytest.raises(ToolNotFoundError):
        registry.remove("b@9")


def test_store_refuses_a_failed_report(registry: ToolRegistry) -> None:
    with pytest.raises(ToolRejectedError):
        registry.store_verified(parse_tool(simple_tool("f")), VerificationReport(False, "doctest"))
    assert registry.names() == []


def test_invalid_provenance_is_refused(registry: ToolRegistry) -> None:
    from agentforge_jupyter.tools import ToolError

    with pytest.raises(ToolError, match="Invalid provenance"):
        store(registry, simple_tool("f"), provenance={"source": "run"})


def _register_many(root: str, worker: int, count: int) -> None:
    registry = ToolRegistry(StateDir(root))
    for i in range(count):
        # Every worker adds versions of one shared name and tools of its own.
        store(registry, simple_tool("shared", body=f"return x + 1  # w{worker} i{i}"))
        store(registry, simple_tool(f"own_{worker}_{i}"))


def test_concurrent_registrations_lose_nothing(tmp_path: Path) -> None:
    root = str(tmp_path / "state")
    workers, count = 4, 6
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_register_many, args=(root, w, count)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * workers
    registry = ToolRegistry(StateDir(root))
    versions = [t.version for t in registry.versions("shared")]
    assert versions == list(range(1, workers * count + 1))
    assert len(registry.names()) == 1 + workers * count
    sources = {t.source for t in registry.versions("shared")}
    assert len(sources) == workers * count


# ----------------------------------------------------------------------------- packages


def test_package_is_importable_in_a_real_sandbox(
    registry: ToolRegistry, tmp_path: Path, full_isolation: None
) -> None:
    store(registry, GOOD)
    store(registry, simple_tool("plus_one"))
    store(registry, simple_tool("plus_one", body="return 1 + x"))
    store(registry, simple_tool("old_tool"))
    registry.deprecate("old_tool")
    dest = tmp_path / "tools_pkg"
    old_umask = os.umask(0o077)  # permissions must not depend on the caller's umask
    try:
        package = write_tools_package(registry, dest)
    finally:
        os.umask(old_umask)
    assert package == dest / "agentforge_tools"
    assert sorted(p.name for p in package.iterdir()) == [
        "__init__.py",
        "_manifest.json",
        "double_total.py",
        "plus_one.py",
    ]
    for path in [dest, *dest.iterdir(), *package.iterdir()]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o005 if path.is_dir() else 0o004  # others may read (and enter dirs)
        assert mode & wanted == wanted, (path, oct(mode))
    assert "plus_one@2" in (package / "plus_one.py").read_text()
    mtime = (package / "__init__.py").stat().st_mtime_ns
    assert write_tools_package(registry, dest) == package  # unchanged: not rewritten
    assert (package / "__init__.py").stat().st_mtime_ns == mtime

    with SyncSandbox(tools_dir=dest, isolation="full") as sandbox:
        result = sandbox.execute(
            "import pandas as pd\n"
            "from agentforge_tools import double_total, plus_one, TOOLS\n"
            "print(double_total(pd.DataFrame({'x': [2, 3]}), 'x'), plus_one(41), TOOLS)\n"
            "import agentforge_tools\nprint(hasattr(agentforge_tools, 'old_tool'))"
        )
    assert result.ok, result.error
    assert result.stdout.split("\n")[0] == "10 42 {'double_total': 1, 'plus_one': 2}"
    assert result.stdout.split("\n")[1] == "False"


def test_tool_sources_for_export_run_without_agentforge(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    store(registry, GOOD)
    store(registry, simple_tool("plus_one"))
    cell = tool_sources_for_export(["double_total", "plus_one@1"], registry)
    assert "# double_total@1" in cell and "# plus_one@1" in cell
    script = tmp_path / "exported.py"
    script.write_text(
        cell
        + "\nfrom agentforge_tools import double_total, plus_one\n"
        + "import pandas as pd\nprint(double_total(pd.DataFrame({'x': [1]}), 'x'), plus_one(1))\n"
    )
    # -I: isolated mode, so nothing of AgentForge is importable; the cell must be enough.
    out = subprocess.run(
        [sys.executable, "-I", str(script)], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 2"
    assert "agentforge_tools" not in tool_sources_for_export(
        ["plus_one"], registry, importable=False
    )


# ----------------------------------------------------------------------------- starter tools


def test_starter_tools_verify_in_the_sandbox(registry: ToolRegistry) -> None:
    from agentforge_jupyter.starter_tools import starter_sources
    from agentforge_jupyter.tools import install_starter_tools

    tools = install_starter_tools(registry)
    names = sorted(t.name for t in tools)
    assert names == sorted(starter_sources())
    assert {"missing_summary", "top_n", "period_growth", "iqr_outliers"} <= set(names)
    for tool in tools:
        assert tool.status == "verified" and tool.verification["examples_run"] >= 2, tool.ref
    mtime = registry.stat_key()
    # Idempotent: the same sources make no new versions.
    assert [t.ref for t in install_starter_tools(registry)] == [t.ref for t in tools]
    assert registry.stat_key() == mtime


def test_register_file_and_text_views(registry: ToolRegistry, tmp_path: Path) -> None:
    from agentforge_jupyter.tools import ToolError, describe_tool, hits_table, tools_table

    path = tmp_path / "plus_one.py"
    path.write_text(simple_tool("plus_one"))
    tool = registry.register_file(path, name="plus_one")
    assert tool.ref == "plus_one@1"
    with pytest.raises(ToolError, match="Cannot read"):
        registry.register_file(tmp_path / "missing.py")
    assert "plus_one" in tools_table(registry.list())
    text = describe_tool(tool, registry.versions("plus_one"))
    assert "plus_one@1  [verified]" in text and "versions:   @1 verified" in text
    assert "plus_one@1" in hits_table(registry.retrieve("add one", k=1))
    assert "No tools registered" in tools_table([])


def test_repository_starter_tools_are_current_and_pass(tmp_path: Path) -> None:
    """The shipped state/tools.json holds every starter tool, current, and its doctests pass."""
    import shutil

    from agentforge_jupyter.starter_tools import starter_sources

    from .conftest import REPO, require

    shipped = REPO / "state" / "tools.json"
    require(shipped.exists(), f"{shipped} not seeded yet (install_starter_tools)")
    copy = tmp_path / "state"
    copy.mkdir()
    shutil.copy(shipped, copy / "tools.json")  # reverify marks statuses: never on the original
    registry = ToolRegistry(StateDir(copy))
    for name, source in starter_sources().items():
        assert registry.get(name).sha256 == parse_tool(source).sha256, (
            f"state/tools.json has an old {name}; run install_starter_tools on state/"
        )
    reports = registry.reverify(starter_sources())
    assert reports and all(r.passed for r in reports.values()), {
        ref: r.describe() for ref, r in reports.items() if not r.passed
    }


def test_tools_used_in_code() -> None:
    from agentforge_jupyter.tools import tools_used_in

    code = (
        "from agentforge_tools import top_n, share_of_total\n"
        "import agentforge_tools as aft\n"
        "x = aft.iqr_outliers(df, 'a')\ny = top_n(df, 'r', 'v')\n"
        "print(aft.TOOLS)\n"
    )
    assert tools_used_in(code) == ["top_n", "share_of_total", "iqr_outliers"]
    assert tools_used_in("import pandas as pd\npd.DataFrame()") == []
    assert tools_used_in("def broken(:") == []
