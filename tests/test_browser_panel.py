"""The JupyterLab side panel in a real browser: it opens, and the Datasets and Tools tabs show
hostile column names and docstrings as text (tests/browser_support.py has the lab and browser)."""

from __future__ import annotations

from pathlib import Path

from .browser_support import *  # noqa: F403  (fake_brain, lab, page: one of each per module)
from .browser_support import Lab, open_tab, shot

XSS_COLUMN = '<img src=x onerror="window.__xss=1">'
TOOL = '''def shout(text):
    """Upper-case text. <script>window.__xss2 = 1</script>

    >>> shout("a")
    'A'
    """
    return text.upper()
'''


def test_panel_opens(page) -> None:
    page.wait_for_selector('li[data-id="agentforge-panel"]', timeout=60_000)
    open_tab(page, "Datasets")
    page.wait_for_selector('#agentforge-panel .agentforge-row[data-name="sales_q3"]')
    assert page.locator("#agentforge-panel .agentforge-tab-button").all_inner_texts() == [
        "Datasets", "Tools", "Brains", "Runs", "Training",
    ]  # fmt: skip
    shot(page, "01-panel-datasets")


def test_upload_csv_and_xss_column_is_text(page, lab: Lab, tmp_path: Path) -> None:
    csv = tmp_path / "probe.csv"
    csv.write_text(f'city,"{XSS_COLUMN.replace(chr(34), chr(34) * 2)}"\nOslo,3\nLima,19\n')
    open_tab(page, "Datasets")
    page.set_input_files("#agentforge-panel .agentforge-drop input[type=file]", str(csv))
    page.wait_for_selector('#agentforge-panel .agentforge-row[data-name="probe"]')
    headers = page.locator("#agentforge-panel .agentforge-detail th").all_inner_texts()
    assert headers == ["city", XSS_COLUMN]
    assert page.evaluate("window.__xss") is None
    assert page.locator('#agentforge-panel img[src="x"]').count() == 0
    shot(page, "02-upload-preview-xss-text")

    # Drag and drop: a File dropped on the drop zone is uploaded the same way.
    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File(['k,v\\na,1\\n'], 'dropped.csv', {type: 'text/csv'}));
          const zone = document.querySelector('#agentforge-panel .agentforge-drop');
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
        }"""
    )
    page.wait_for_selector('#agentforge-panel .agentforge-row[data-name="dropped"]')
    assert {d["name"] for d in lab.api("datasets")} >= {"probe", "dropped", "sales_q3"}


def test_tool_docstring_script_is_text(page, lab: Lab, full_isolation) -> None:
    lab.api("tools", "POST", {"source": TOOL})  # verified in the sandbox, as `tools add`
    open_tab(page, "Tools")
    page.click('#agentforge-panel .agentforge-row[data-name="shout"] button')
    page.wait_for_selector("#agentforge-panel .agentforge-docstring")
    text = page.locator("#agentforge-panel .agentforge-docstring").inner_text()
    assert "<script>window.__xss2 = 1</script>" in text
    assert page.locator("#agentforge-panel script").count() == 0
    assert page.evaluate("window.__xss2") is None
    shot(page, "03-tool-detail-script-as-text")
