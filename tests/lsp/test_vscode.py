"""End to end in a real VS Code: code-server 4.100 (VS Code 1.100) with the packaged .vsix installed, driven in
Debian's Chromium by Playwright. Open a file, set the key (VS Code's secret storage, through the extension's
command), pick *Self-debug this function* from the lightbulb menu, see the progress and the status-bar item, and
the repaired function in the editor; save it. Then *Trace and repair*, cancelled by a click on the status-bar item
(VS Code's window progress has no cancel button). Screenshots of the progress and of the result are kept in
SELFDEBUG_SCREENSHOTS (default ~/.cache/selfdebug/editors/screenshots)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.lsp.conftest import SERVER_ENV
from tests.lsp.scenarios import MODULE, latest_job, write_module
from tests.lsp.vscode import CACHE, build_vsix, code_server, server_command
from tests.service.conftest import KEYS
from tests.service.harness import ApiServer

CHROMIUM = "/usr/bin/chromium"
# Chromium as root in a container: no sandbox, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run",
                 "--disable-extensions", "--mute-audio"]
STEP = 60_000  # milliseconds any one step may take
NOTES = " (wrong first) (slow 1.5)"  # the model answers in 1.5 s: slow enough to see the progress


def _editor_text(page: Page) -> str:
    return str(page.locator(".monaco-editor .view-lines").first.inner_text()).replace("\u00a0", " ")


def _open(page: Page, url: str, folder: Path) -> None:
    """Open the folder, then calc.py with Quick Open, as a user would; the cursor on add's last line."""
    page.goto(f"{url}/?folder={folder}")
    page.locator(".monaco-workbench").wait_for()
    page.locator(".explorer-folders-view, .monaco-workbench .part.sidebar").first.wait_for()
    page.keyboard.press("Control+P")
    page.locator(".quick-input-widget input").wait_for()
    page.keyboard.type("calc.py")
    page.locator(".quick-input-list .monaco-list-row").first.wait_for()
    page.keyboard.press("Enter")
    line = page.locator(".view-line", has_text="return a - b")
    line.wait_for()
    line.click()
    page.keyboard.press("End")


def _set_key(page: Page, key: str) -> None:
    """The key into VS Code's secret storage with the extension's command, from the command palette."""
    page.keyboard.press("F1")
    page.locator(".quick-input-widget input").wait_for()
    page.keyboard.type("selfdebug: Set API key")
    page.locator(".quick-input-list .monaco-list-row", has_text="Set API key").first.wait_for()
    page.keyboard.press("Enter")
    page.locator(".quick-input-widget", has_text="secret storage").wait_for()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.locator(".quick-input-widget").wait_for(state="hidden")
    # Back in the editor, the cursor moves (the lightbulb follows the cursor) and comes back to add's last line.
    page.locator(".view-line", has_text="def untouched").click()
    page.locator(".view-line", has_text="return a - b").click()
    page.keyboard.press("End")


def _pick(page: Page, title: str) -> None:
    """Open the lightbulb's menu and pick ``title`` in it."""
    bulb = page.locator(".lightBulbWidget .codicon, .lightBulbWidget").first  # once the server offered actions
    bulb.wait_for(state="visible")
    bulb.click()
    page.locator(".action-widget .monaco-list-row", has_text=title).first.wait_for()
    # The menu takes the keyboard (an overlay blocks the pointer while it opens): move to the entry, pick it.
    focused = page.locator(".action-widget .monaco-list-row.focused")
    for _ in range(8):
        if title in focused.inner_text():
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")


def _self_debug(page: Page, shots: Path) -> float:
    """Pick Self-debug this function from the lightbulb menu, watch its progress, wait for the repaired
    function; seconds from the pick to the repaired function in the editor."""
    started = time.monotonic()
    _pick(page, "Self-debug this function")
    # The progress: VS Code's window progress, and the extension's status-bar item with the job's steps.
    expect(page.locator(".statusbar-item", has_text="Self-debug add")).to_be_visible()
    expect(page.locator(".statusbar-item", has_text="selfdebug: add: repair 1")).to_be_visible(timeout=STEP)
    page.screenshot(path=str(shots / "vscode-progress.png"))
    page.locator(".view-line", has_text="return a + b").wait_for()
    seconds = time.monotonic() - started
    expect(page.locator(".notification-toast", has_text="add repaired: 3/3 self-tests pass")).to_be_visible()
    page.wait_for_timeout(500)  # the toast slides in
    page.screenshot(path=str(shots / "vscode-repaired.png"))
    return seconds


def _cancel_from_the_status_bar(page: Page, service: ApiServer) -> None:
    """Trace and repair, cancelled by a click on the status-bar item: the job is cancelled on the service and the
    function stays as it is."""
    before = _editor_text(page)
    page.locator(".view-line", has_text="def untouched").click()
    page.locator(".view-line", has_text="return a + b").click()
    _pick(page, "Trace and repair")
    item = page.locator(".statusbar-item", has_text="selfdebug: add")
    item.wait_for()
    item.click()
    expect(page.locator(".notification-toast", has_text="Trace and repair add: cancelled")).to_be_visible()
    deadline = time.monotonic() + 30
    while latest_job(service)["status"] != "cancelled":
        assert time.monotonic() < deadline, "the job was not cancelled on the service"
        time.sleep(0.2)
    assert latest_job(service)["options"]["strategy"] == "in_execution"
    assert _editor_text(page) == before


def test_vscode_repairs_the_function_from_the_lightbulb(service: ApiServer, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium is missing: scripts/setup installs it (apt-get install chromium)"
    shots = Path(os.environ.get("SELFDEBUG_SCREENSHOTS") or CACHE / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "project"
    folder.mkdir()
    path = write_module(folder, notes=NOTES)
    vsix = build_vsix(tmp_path)
    settings = {"selfdebug.serverUrl": service.url, "selfdebug.command": server_command()}
    env = dict(SERVER_ENV)  # no key here: the extension hands the server the one in VS Code's secret storage
    with code_server(vsix, folder, tmp_path / "home", settings, env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(STEP)
        try:
            _open(page, url, folder)
            _set_key(page, KEYS["alice"])
            seconds = _self_debug(page, shots)
            text = _editor_text(page)
            assert "return a + b" in text and "return a - b" not in text and "math.floor(x)" in text
            page.keyboard.press("Control+S")
            expected = MODULE.format(notes=NOTES).replace("return a - b", "return a + b")
            deadline = time.monotonic() + 30
            while path.read_text() != expected and time.monotonic() < deadline:
                time.sleep(0.2)
            assert path.read_text() == expected
            _cancel_from_the_status_bar(page, service)
        except Exception:
            page.screenshot(path=str(shots / "vscode-failure.png"))
            raise
        finally:
            browser.close()
    print(f"\nVS Code: the repaired function in the editor {seconds:.2f} s after picking the action "
          f"(the model answers in 1.5 s each); screenshots in {shots}")
