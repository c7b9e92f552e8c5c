"""The server extension's REST API over real HTTP on loopback (pytest-jupyter's `jp_fetch`):
datasets, tools, brains, errors as {"error"}, and the extension loading from its config."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from agentforge_jupyter.server.extension import routes

from .server_fixtures import *  # noqa: F403  (run, jp_fetch, jp_serverapp, ...)
from .server_fixtures import api, error_of

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    # The repository's verified starter tools, without verifying them again in sandboxes.
    path = tmp_path / "state"
    path.mkdir()
    shutil.copy(REPO / "state" / "tools.json", path / "tools.json")
    return path


@pytest.fixture
def jp_server_config(state: Path) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"agentforge_jupyter.server": True}},
        "AgentForgeServer": {"state_dir": str(state), "max_upload_mb": 0.05},
    }


def multipart(filename: str, content: bytes, name: str | None = None) -> tuple[dict, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        + content
        + b"\r\n"
    ]
    if name is not None:
        field = f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
        parts.append(field.encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def test_config_file_enables_the_extension() -> None:
    config = json.loads((REPO / "jupyter-config/server-config/agentforge_jupyter.json").read_text())
    assert config["ServerApp"]["jpserver_extensions"] == {"agentforge_jupyter.server": True}
    from agentforge_jupyter.server import _jupyter_server_extension_points
    from agentforge_jupyter.server.extension import AgentForgeExtension

    assert _jupyter_server_extension_points() == [
        {"module": "agentforge_jupyter.server", "app": AgentForgeExtension}
    ]


def test_routes_cover_the_api() -> None:
    paths = [p for p, _ in routes("/")]
    assert all(p.startswith("/agentforge/api/") for p in paths)
    assert len(paths) == 19


def test_datasets_upload_preview_profile_remove(jp_fetch, state, run) -> None:
    run(_datasets_upload_preview_profile_remove(jp_fetch=jp_fetch, state=state))


async def _datasets_upload_preview_profile_remove(jp_fetch, state: Path) -> None:
    listed = await api(jp_fetch, "datasets")
    assert [d["name"] for d in listed] == ["sales_q3"]  # the sample, as the CLI registers it

    headers, body = multipart("temps.csv", b"city,temp\nOslo,3\nLima,19\nRome,14\n")
    added = await api(jp_fetch, "datasets", method="POST", headers=headers, body=body)
    assert added["name"] == "temps" and added["rows"] == 3
    assert (state / "data" / "temps.csv").is_file()

    preview = await api(jp_fetch, "datasets", "temps", "preview", params={"n": 2})
    assert preview["columns"] == ["city", "temp"]
    assert preview["rows"] == [["Oslo", 3], ["Lima", 19]]

    profile = await api(jp_fetch, "datasets", "temps", "profile")
    assert [c["name"] for c in profile["columns"]] == ["city", "temp"]

    assert await api(jp_fetch, "datasets", "temps", method="DELETE") == {"removed": "temps"}
    code, error = await error_of(jp_fetch, "datasets", "temps", "preview")
    assert code == 404 and "temps" in error["error"]


def test_upload_is_validated_like_the_cli(jp_fetch, run) -> None:
    run(_upload_is_validated_like_the_cli(jp_fetch=jp_fetch))


async def _upload_is_validated_like_the_cli(jp_fetch) -> None:
    headers, body = multipart("empty.csv", b"a,b\n", name="empty")
    code, error = await error_of(jp_fetch, "datasets", method="POST", headers=headers, body=body)
    assert code == 400 and "no data rows" in error["error"]

    headers, body = multipart("x.csv", b"a\n1\n", name="bad name!")
    code, error = await error_of(jp_fetch, "datasets", method="POST", headers=headers, body=body)
    assert code == 400 and "name" in error["error"].lower()

    headers, body = multipart("sales.csv", b"a\n1\n", name="sales_q3")
    code, error = await error_of(jp_fetch, "datasets", method="POST", headers=headers, body=body)
    assert code == 409


def test_upload_over_the_size_limit_is_refused(jp_fetch, state, run) -> None:
    run(_upload_over_the_size_limit_is_refused(jp_fetch=jp_fetch, state=state))


async def _upload_over_the_size_limit_is_refused(jp_fetch, state: Path) -> None:
    big = b"value\n" + b"1234567890\n" * 10_000  # ~110 kB; the test limit is 0.05 MiB
    headers, body = multipart("big.csv", big)
    code, error = await error_of(jp_fetch, "datasets", method="POST", headers=headers, body=body)
    assert code == 413 and "limit" in error["error"]
    assert not (state / "data" / "big.csv").exists()


def test_upload_without_a_file_is_a_clear_error(jp_fetch, run) -> None:
    run(_upload_without_a_file_is_a_clear_error(jp_fetch=jp_fetch))


async def _upload_without_a_file_is_a_clear_error(jp_fetch) -> None:
    code, error = await error_of(jp_fetch, "datasets", method="POST", body=b"")
    assert code == 400 and '"file"' in error["error"]


def test_tools_list_search_detail_deprecate_remove(jp_fetch, run) -> None:
    run(_tools_list_search_detail_deprecate_remove(jp_fetch=jp_fetch))


async def _tools_list_search_detail_deprecate_remove(jp_fetch) -> None:
    tools = await api(jp_fetch, "tools")
    names = {t["name"] for t in tools}
    assert "top_n" in names

    hits = await api(jp_fetch, "tools", "search", params={"q": "top rows by a column", "k": 3})
    assert 1 <= len(hits) <= 3 and all("score" in h for h in hits)

    detail = await api(jp_fetch, "tools", "top_n")
    assert "def top_n" in detail["source"] and detail["verification"]["passed"]
    assert detail["versions"]

    changed = await api(jp_fetch, "tools", "top_n", "deprecate", method="POST", body=b"")
    assert changed["deprecated"]
    assert (await api(jp_fetch, "tools", "top_n"))["status"] == "deprecated"

    removed = await api(jp_fetch, "tools", "top_n", method="DELETE")
    assert removed["versions"] >= 1
    code, error = await error_of(jp_fetch, "tools", "top_n")
    assert code == 404 and "top_n" in error["error"]


def test_tools_search_needs_a_query(jp_fetch, run) -> None:
    run(_tools_search_needs_a_query(jp_fetch=jp_fetch))


async def _tools_search_needs_a_query(jp_fetch) -> None:
    code, error = await error_of(jp_fetch, "tools", "search")
    assert code == 400 and "q=" in error["error"]


def test_post_tool_bad_body(jp_fetch, run) -> None:
    run(_post_tool_bad_body(jp_fetch=jp_fetch))


async def _post_tool_bad_body(jp_fetch) -> None:
    code, error = await error_of(jp_fetch, "tools", method="POST", body=b"not json")
    assert code == 400 and "JSON" in error["error"]
    code, error = await error_of(jp_fetch, "tools", method="POST", body=json.dumps({}))
    assert code == 400 and "source" in error["error"]


def test_post_tool_is_verified_in_the_sandbox(jp_fetch, full_isolation, run) -> None:
    run(_post_tool_is_verified_in_the_sandbox(jp_fetch=jp_fetch, full_isolation=full_isolation))


async def _post_tool_is_verified_in_the_sandbox(jp_fetch, full_isolation) -> None:
    good = (
        'def double(x):\n    """Twice x.\n\n    >>> double(2)\n    4\n    """\n    return 2 * x\n'
    )
    tool = await api(jp_fetch, "tools", method="POST", body=json.dumps({"source": good}))
    assert tool["name"] == "double" and tool["status"] == "verified"

    wrong = good.replace("    4\n", "    5\n")
    code, error = await error_of(
        jp_fetch, "tools", method="POST", body=json.dumps({"source": wrong})
    )
    assert code == 422 and error["report"]["stage"] == "doctest"


def test_brains_and_models(jp_fetch, run) -> None:
    run(_brains_and_models(jp_fetch=jp_fetch))


async def _brains_and_models(jp_fetch) -> None:
    brains = await api(jp_fetch, "brains")
    assert any(b["default"] for b in brains)
    assert all("api_key" not in b for b in brains)
    code, error = await error_of(jp_fetch, "brains", "nope", "models")
    assert code == 404 and "nope" in error["error"]


def test_bad_numbers_and_ids_are_400(jp_fetch, run) -> None:
    run(_bad_numbers_and_ids_are_400(jp_fetch=jp_fetch))


async def _bad_numbers_and_ids_are_400(jp_fetch) -> None:
    code, error = await error_of(jp_fetch, "datasets", "sales_q3", "preview", params={"n": "x"})
    assert code == 400 and "integer" in error["error"]
    code, error = await error_of(jp_fetch, "runs", "..hidden")
    assert code == 400
