"""End to end, the way a student meets the course: the Binder path, replayed on this machine.

1. Copy the repository (the files a fresh clone has) and install a fresh virtual environment
   from ``binder/requirements.txt`` run in that copy, as repo2docker does, then ``binder/postBuild``
   if there is one. (Binder uses Python 3.12 from ``binder/runtime.txt``; this replay uses the
   Python running the tests.)
2. Start ``jupyter lab --no-browser`` from that environment on 127.0.0.1, on a port of its choosing,
   with a token and empty config, data and runtime directories, under the prefix ``/user/student/``
   with ``JUPYTERHUB_SERVICE_PREFIX`` set, as Binder's single-user servers run.
3. Headless Chromium (Playwright, Debian's ``/usr/bin/chromium``) opens every notebook of
   ``notebooks/``, then ``notebooks/extra/``, the Chinese edition ``notebooks/zh-CN/`` and
   ``notebooks/zh-CN/extra/``, one after another in the same Lab server, runs every cell from the
   Run menu, saves, and we check: no cell raised (no error output, no traceback on stderr), every
   widget rendered (no "Error displaying widget", no "Loading widget..." left, no ipywidgets error
   placeholder), and the Jupyter token is nowhere in the saved notebook. Then the notebook's
   kernel is shut down before the next one opens. A Chinese notebook must also speak Chinese in
   Lab: its first cell sets the language, so its checkpoint says 小测验; and one of its widgets
   (the fragmentation lab of chapter 06) shows Chinese labels, photographed.
4. For ``00_start_here.ipynb`` (English and Chinese) also: typing a key into the accept-key
   widget brings the kernel's answer, the chat page opened through jupyter-server-proxy
   (``/user/student/proxy/PORT/``, as on Binder) talks with a client inside the kernel (a
   4096-character message too), the chat's IFrame did not take the keyboard focus, and the live
   event log shows the browser's frames.

Screenshots (``e2e-NN_name.png``, ``e2e-zh-CN-NN_name.png``, ``e2e-zh-CN-widget.png``), the times
per notebook (``e2e-times.txt``) and logs go to ``test-artifacts/``. Every wait has a timeout, and
the Jupyter server and its kernels (found by process id) are stopped however the test ends.

Locally the test is skipped when Chromium or Playwright is missing; under CI (``CI=true``) a
missing piece fails it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, chromium, require

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# Every notebook of the course, in order; a new chapter is picked up by its file alone. The
# English chapters, the extra notebooks (errata, glossary), then the Chinese edition.
FOLDERS = ("", "extra", "zh-CN", "zh-CN/extra")
NOTEBOOKS = [
    path.relative_to(ROOT).as_posix()
    for folder in FOLDERS
    for path in sorted((ROOT / "notebooks" / folder).glob("*.ipynb"))
]
START_HERE = "notebooks/00_start_here.ipynb"
ZH_START_HERE = "notebooks/zh-CN/00_start_here.ipynb"
# The Chinese notebook whose widget is photographed, and the widget (its CSS class).
ZH_WIDGET = ("notebooks/zh-CN/06_echo_and_messages.ipynb", ".wslearn-fragmentation")
CJK = re.compile(r"[\u4e00-\u9fff]")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# How long each notebook took in the browser: path -> seconds (open, run all, checks, shut down).
TIMES: dict[str, float] = {}
# As on Binder: the single-user server lives under a prefix, told to kernels by this variable.
BASE_URL = "/user/student/"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3, written out again on purpose
# Environment variables that would make the replay see another Jupyter or another hub.
FOREIGN_VARIABLES = re.compile(r"^(JUPYTER.*|JPY_.*|IPYTHONDIR|WSLEARN_.*|VIRTUAL_ENV|PYTHONPATH)$")

pytestmark = pytest.mark.timeout(900)


# --- 1. the Binder environment --------------------------------------------------------------


def repository_files() -> list[str]:
    """The files a fresh clone would have: tracked ones, and new ones that are not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_repository(target: Path) -> Path:
    for name in repository_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def run_logged(command: list[str], log: Path, *, cwd: Path, timeout: float, **kwargs: Any) -> None:
    with log.open("ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        done = subprocess.run(
            command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, **kwargs
        )
    assert done.returncode == 0, f"{command[:3]} failed; see {log}:\n{log.read_text()[-3000:]}"


def build_binder_environment(repo: Path, venv: Path, log: Path) -> None:
    """What repo2docker does with binder/: requirements.txt from the repository root, then postBuild."""
    run_logged([sys.executable, "-m", "venv", str(venv)], log, cwd=repo, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    run_logged([*pip, "-r", "binder/requirements.txt"], log, cwd=repo, timeout=900)
    post_build = repo / "binder" / "postBuild"
    if post_build.exists():
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        run_logged(["bash", str(post_build)], log, cwd=repo, timeout=600, env=env)


# --- 2. JupyterLab --------------------------------------------------------------------------


@dataclass
class Lab:
    url: str  # "http://127.0.0.1:PORT/user/student/"
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path  # the Jupyter server's output, kernels' stderr included

    def open_url(self, path: str) -> str:
        return f"{self.url}{path}?token={self.token}"


def clean_environment(venv: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not FOREIGN_VARIABLES.match(k)}
    for name, folder in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (home / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / folder)
    # No "Would you like to get notified about official Jupyter news?" toast over the notebook.
    notification = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env["JUPYTERHUB_SERVICE_PREFIX"] = BASE_URL
    return env


def start_lab(repo: Path, venv: Path, home: Path, log: Path) -> Lab:
    token = secrets.token_hex(16)
    env = clean_environment(venv, home)
    command = [
        str(venv / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",  # the server picks a free port and writes it to its runtime file
        f"--IdentityProvider.token={token}",
        f"--ServerApp.base_url={BASE_URL}",
        f"--ServerApp.root_dir={repo}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI machines run as root
        command.append("--allow-root")
    out = log.open("ab")
    process = subprocess.Popen(command, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    try:
        url = wait_for_server_url(Path(env["JUPYTER_RUNTIME_DIR"]), process, log)
        wait_until(lambda: http_ok(f"{url}api/status?token={token}"), 60, "JupyterLab answering")
    except BaseException:
        stop_process_tree(process)
        raise
    return Lab(url, token, repo, process, log)


def wait_for_server_url(runtime: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    info_file = runtime / f"jpserver-{process.pid}.json"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            info = json.loads(info_file.read_text())
            return f"http://127.0.0.1:{info['port']}{info['base_url']}"
        except (OSError, ValueError, KeyError):
            time.sleep(0.2)
    pytest.fail(f"jupyter lab wrote no {info_file.name} within 90 s:\n{log.read_text()[-3000:]}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)


def stop_process_tree(process: subprocess.Popen[bytes]) -> None:
    """Stop the server we started and the kernels it started (they run in their own sessions)."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require(CHROMIUM.exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "playwright is not installed (pip install playwright)")
    require(shutil.which("git") is not None, "git is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "e2e-jupyterlab.log"
    log.write_text("")
    base = tmp_path_factory.mktemp("binder")
    repo = copy_repository(base / "repo")
    build_binder_environment(repo, base / "venv", log)
    server = start_lab(repo, base / "venv", base / "home", log)
    try:
        yield server
    finally:
        stop_process_tree(server.process)


# --- 3. the browser -------------------------------------------------------------------------


def accept_for(key: str) -> str:
    """RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), computed here independently of wslearn."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def run_all_cells(page: Any) -> None:
    """Run → Run All Cells, as a student would, then wait until every code cell has run, or
    until a cell failed (JupyterLab then skips the cells after it) and nothing runs any more."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                .map(p => p.textContent.trim());
            if (prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p))) return true;
            const stderr = 'application/vnd.jupyter.stderr';  // error outputs render as this too
            const failed = document.querySelector(`.jp-OutputArea-output[data-mime-type="${stderr}"]`);
            return failed !== null && !prompts.includes('[*]:');
        }""",
        timeout=180_000,
    )


def wait_for_widgets(page: Any) -> None:
    """Widget views render after their cell ran: wait until none says "Loading widget..." any more."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-OutputArea-output')]
            .every(node => !node.textContent.includes('Loading widget...'))""",
        timeout=30_000,
    )


def save_and_read(page: Any, path: Path) -> dict[str, Any]:
    """Save with Ctrl+S and read the notebook back from disk, outputs included."""
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_until(lambda: path.stat().st_mtime_ns != before, 30, f"{path.name} saved")
    time.sleep(0.5)  # let the write finish
    notebook: dict[str, Any] = json.loads(path.read_text())
    return notebook


def errors_in(notebook: dict[str, Any]) -> list[str]:
    """Error outputs, and tracebacks printed on stderr (an exception in a background thread)."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = "\n".join(output.get("traceback", []))
                found.append(f"cell {index}: {output['ename']}: {output['evalue']}\n{trace}")
            elif output.get("name") == "stderr":
                text = "".join(output.get("text", ""))
                if "Traceback" in text or "Exception in thread" in text:
                    found.append(f"cell {index}, on stderr:\n{text}")
    return found


def widget_outputs(notebook: dict[str, Any]) -> int:
    """How many widget views the saved notebook's outputs hold."""
    return sum(
        WIDGET_MIME in output.get("data", {})
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )


def check_widgets_rendered(page: Any, saved: dict[str, Any]) -> None:
    """Every widget output shows a live widget view: no ipywidgets error of any kind.

    A widget's output node carries no mime type in the page; it holds the view, an element of
    class ``jupyter-widgets``. Outputs inside a widget (an ``Output`` widget) are not counted.
    """
    assert page.get_by_text("Error displaying widget").count() == 0, "a widget failed to display"
    assert page.locator(".jupyter-widgets-error-widget").count() == 0, (
        "ipywidgets showed its error placeholder"
    )
    shown = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea-output')]
            .filter(node => node.parentElement.closest('.jupyter-widgets') === null)
            .filter(node => node.querySelector('.jupyter-widgets') !== null).length"""
    )
    assert shown == widget_outputs(saved), f"{widget_outputs(saved)} widget outputs, {shown} widgets shown"


# The outermost wslearn widgets of the page, and the first enabled button of each.
CLICK_EACH_WIDGET = """() => {
  const roots = [...document.querySelectorAll('.jupyter-widgets[class*="wslearn-"]')]
    .filter(node => node.parentElement.closest('.jupyter-widgets[class*="wslearn-"]') === null);
  let clicked = 0;
  for (const root of roots) {
    const button = root.querySelector('button:not([disabled])');
    if (button) { button.click(); clicked += 1; }
  }
  return clicked;
}"""


def drive_widgets(page: Any, lab: Lab) -> None:
    """Click one button of every wslearn widget, as a student would, and let the kernel answer.

    A widget callback that raises does not reach the notebook: ipykernel logs it to its stderr,
    which is the Jupyter server's log. So the log must gain no traceback, and no widget may
    fail to display afterwards.
    """
    before = lab.log.read_text(errors="replace").count("Traceback")
    clicked = page.evaluate(CLICK_EACH_WIDGET)
    if clicked:
        page.wait_for_timeout(3000)  # the callbacks run in the kernel; some start a server
    after = lab.log.read_text(errors="replace").count("Traceback")
    assert after == before, "a widget's callback raised: see the Jupyter server's log"
    assert page.get_by_text("Error displaying widget").count() == 0, "a widget broke when clicked"


def short_name(notebook: str) -> str:
    """``notebooks/zh-CN/00_start_here.ipynb`` -> ``zh-CN-00_start_here``: unique in the course."""
    return Path(notebook).relative_to("notebooks").with_suffix("").as_posix().replace("/", "-")


def is_chinese(notebook: str) -> bool:
    return notebook.startswith("notebooks/zh-CN/")


def check_speaks_chinese(page: Any, notebook: str, saved: dict[str, Any]) -> None:
    """The first cell set the language in this Lab kernel: the checkpoint (if any) is in Chinese."""
    source = "".join("".join(cell["source"]) for cell in saved["cells"] if cell["cell_type"] == "code")
    if "Checkpoint(" in source:
        checkpoint = page.locator(".wslearn-checkpoint").first
        checkpoint.wait_for(timeout=30_000)
        assert "小测验" in checkpoint.inner_text(), f"the checkpoint of {notebook} is not in Chinese"


def photograph_chinese_widget(page: Any) -> None:
    """One Chinese widget as Chromium draws it: its labels are Chinese, drawn with the CJK font."""
    from playwright.sync_api import expect

    widget = page.locator(ZH_WIDGET[1]).first
    # Lab draws only the cells near the viewport: bring the widget there, then read what it shows.
    widget.scroll_into_view_if_needed(timeout=30_000)
    expect(widget).to_contain_text(CJK, timeout=30_000)
    widget.screenshot(path=str(ARTIFACTS / "e2e-zh-CN-widget.png"))


def open_notebook(context: Any, lab: Lab, notebook: str) -> Any:
    """Open ``notebook`` in a workspace of its own, so that Lab reopens no earlier notebook."""
    page = context.new_page()
    workspace = "e2e-" + short_name(notebook)
    page.goto(lab.open_url(f"lab/workspaces/{workspace}/tree/{notebook}"), timeout=60_000)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    # Ready when the server says the notebook's kernel is idle with the page connected to it
    # (the page shows "idle" for a moment before the kernel exists), and the page agrees.
    wait_until(lambda: kernel_ready(lab, notebook), 120, f"the kernel of {notebook} to start")
    page.locator('.jp-NotebookPanel [data-status="idle"]').first.wait_for(timeout=60_000)
    return page


def sessions(lab: Lab) -> list[dict[str, Any]]:
    try:
        with urllib.request.urlopen(lab.open_url("api/sessions"), timeout=5) as response:
            found: list[dict[str, Any]] = json.load(response)
            return found
    except OSError:
        return []


def kernel_ready(lab: Lab, notebook: str) -> bool:
    return any(
        session["path"] == notebook
        and session["kernel"]["execution_state"] == "idle"
        and session["kernel"]["connections"] > 0
        for session in sessions(lab)
    )


def shut_down_kernel(lab: Lab, notebook: str) -> None:
    """End the notebook's session and kernel (its servers and threads), as File → Shut Down does."""
    for session in sessions(lab):
        if session["path"] == notebook:
            request = urllib.request.Request(
                f"{lab.url}api/sessions/{session['id']}",
                method="DELETE",
                headers={"Authorization": f"token {lab.token}"},
            )
            with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=30):
                pass


def check_accept_key_widget(page: Any) -> None:
    from playwright.sync_api import expect

    widget = page.locator(".wslearn-accept-key").first
    widget.wait_for(timeout=30_000)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    widget.locator("input[type=text]").fill(key)
    # The kernel computes the answer (the widget's HTML is replaced): compare with our own.
    expect(widget.locator(".wslearn-accept-value")).to_have_text(accept_for(key), timeout=30_000)


def chat_href(page: Any) -> str:
    link = page.locator("a.wslearn-page-link").first
    link.wait_for(timeout=30_000)
    href: str = link.get_attribute("href")
    return href


def check_chat_through_proxy(context: Any, lab: Lab, href: str) -> str:
    """Open the chat page as Binder users do and talk with the kernel; return what we said."""
    from playwright.sync_api import expect

    proxy_path = re.escape(BASE_URL) + r"proxy/\d+/"
    assert re.fullmatch(proxy_path, href), f"the notebook should link the proxy path, not {href}"
    chat = context.new_page()
    chat.goto(urllib.parse.urljoin(lab.url, href), timeout=30_000)
    chat.locator("#status.open").wait_for(timeout=30_000)
    message = f"hello from the browser {secrets.token_hex(4)}"
    chat.locator("#msg").fill(message)
    chat.locator("#msg").press("Enter")
    chat.locator("#messages .chat .msg", has_text=message).first.wait_for(timeout=15_000)
    # The kernel's chat client answers every browser message (see the notebook's last section).
    reply = chat.locator("#messages .chat .msg", has_text=f"kernel heard: {message}")
    reply.first.wait_for(timeout=15_000)
    # The longest message the chat takes (4096 characters): the kernel's answer is shortened to
    # fit the same limit, never "kernel heard: None".
    chat.locator("#msg").fill("x" * 4096)
    chat.locator("#msg").press("Enter")
    long_reply = "kernel heard: " + "x" * (4096 - len("kernel heard: ") - 1) + "…"
    expect(chat.locator("#messages .chat .msg").last).to_have_text(long_reply, timeout=15_000)
    assert chat.get_by_text("kernel heard: None").count() == 0
    chat.screenshot(path=str(ARTIFACTS / "e2e-chat.png"))
    return message


def check_event_log_view(page: Any, message: str) -> None:
    """The notebook's live event log, updated from the server's thread, shows our frames."""
    from playwright.sync_api import expect

    expect(page.locator(".wslearn-event-log").first).to_contain_text(message, timeout=15_000)


def check_chat_frame_left_the_focus(page: Any) -> None:
    """The chat page in notebook 00's IFrame connects while later cells run; it must not take
    the keyboard (every Shift+Enter would go into the chat box)."""
    page.frame_locator("iframe").first.locator("#status.open").wait_for(timeout=30_000)
    assert page.evaluate("document.activeElement.tagName") != "IFRAME", "the chat IFrame took the focus"


def check_start_here(page: Any, context: Any, lab: Lab) -> None:
    """What notebook 00 promises beyond running cleanly."""
    check_accept_key_widget(page)
    message = check_chat_through_proxy(context, lab, chat_href(page))
    check_event_log_view(page, message)


@pytest.fixture(scope="module")
def browser_context(lab: Lab) -> Iterator[Any]:
    """One headless Chromium for every notebook."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        yield context


@pytest.fixture(scope="module", autouse=True)
def report_times(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the last notebook: each notebook's time in the browser, on the terminal and in a file."""
    started = time.monotonic()
    yield
    if not TIMES:
        return
    lines = [f"{name}: {seconds:.1f} s" for name, seconds in TIMES.items()]
    lines.append(
        f"{len(TIMES)} notebook(s) in {sum(TIMES.values()):.1f} s; {time.monotonic() - started:.1f} s in all"
    )
    (ARTIFACTS / "e2e-times.txt").write_text("\n".join(lines) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_sep("-", "notebooks in JupyterLab")
            for line in lines:
                reporter.write_line(line)


def test_the_course_starts_here() -> None:
    assert START_HERE in NOTEBOOKS and ZH_START_HERE in NOTEBOOKS
    assert ZH_WIDGET[0] in NOTEBOOKS
    assert "notebooks/extra/errata.ipynb" in NOTEBOOKS and "notebooks/zh-CN/extra/errata.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[short_name(name) for name in NOTEBOOKS])
def test_notebook_in_jupyterlab(lab: Lab, browser_context: Any, notebook: str) -> None:
    started = time.monotonic()
    page = open_notebook(browser_context, lab, notebook)
    try:
        run_all_cells(page)
        wait_for_widgets(page)
        if notebook in (START_HERE, ZH_START_HERE):
            check_chat_frame_left_the_focus(page)  # before anything clicks into the notebook
        saved = save_and_read(page, lab.root / notebook)
        assert not errors_in(saved), "\n\n".join(errors_in(saved))
        check_widgets_rendered(page, saved)
        if is_chinese(notebook):
            check_speaks_chinese(page, notebook, saved)
        if notebook == ZH_WIDGET[0]:
            photograph_chinese_widget(page)
        if notebook in (START_HERE, ZH_START_HERE):
            check_start_here(page, browser_context, lab)
        else:
            drive_widgets(page, lab)
        saved = save_and_read(page, lab.root / notebook)
        assert not errors_in(saved), "\n\n".join(errors_in(saved))
        assert lab.token not in json.dumps(saved), "the Jupyter token leaked into the notebook"
    finally:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"e2e-{short_name(notebook)}.png"), full_page=True)
        page.close()
        shut_down_kernel(lab, notebook)
        TIMES[notebook] = time.monotonic() - started
