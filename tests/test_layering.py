"""The core of wslearn stays pure: no I/O, no event loop, no notebook machinery.

Students read the core beside RFC 6455, and the asyncio layer, the widgets and the tests all
stand on it. Importing it must not drag in asyncio, sockets, IPython, ipywidgets or the
websockets library (that one is loaded lazily, only for its C masker). Each check runs in a
fresh interpreter, because this test process has long since imported all of those.

The imports go one way, too: the core never imports the views above it (``explain``,
``eventlog``) nor anything built on it, not even lazily inside a function, so there is no
circle to come back. The HTML views reach the core objects through ``wslearn.views``, where
``explain`` registers them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wslearn"

# The core, bottom first: each of these imports only the standard library and modules
# of this list (and, lazily, the websockets library's C masker).
CORE_ONLY = [
    "wslearn.i18n",
    "wslearn.errors",
    "wslearn.views",
    "wslearn.redaction",
    "wslearn.http",
    "wslearn.handshake",
    "wslearn.frames",
    "wslearn.deflate",
    "wslearn.assembler",
    "wslearn.protocol",
]
# Views of the core: as pure as the core, but above it.
VIEWS = ["wslearn.explain", "wslearn.eventlog"]
CORE = [*CORE_ONLY, *VIEWS]
FORBIDDEN = ["asyncio", "socket", "IPython", "ipywidgets", "websockets"]


def modules_after_importing(*names: str) -> set[str]:
    """The names in ``sys.modules`` of a fresh interpreter after importing ``names``."""
    code = "import json, sys\n"
    code += "".join(f"import {name}\n" for name in names)
    code += "print(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def forbidden_in(modules: set[str]) -> list[str]:
    return sorted(name for name in modules for bad in FORBIDDEN if name == bad or name.startswith(bad + "."))


def test_a_bare_interpreter_loads_none_of_them() -> None:
    # Guards the test itself: were one of these preloaded by the interpreter (a .pth
    # file, sitecustomize), the checks below would blame the core for it.
    assert forbidden_in(modules_after_importing()) == []


def test_the_whole_core_loads_none_of_them() -> None:
    modules = modules_after_importing(*CORE)
    assert set(CORE) <= modules
    assert forbidden_in(modules) == []


@pytest.mark.parametrize("module", CORE)
def test_each_core_module_alone(module: str) -> None:
    assert forbidden_in(modules_after_importing(module)) == []


def test_the_check_would_notice() -> None:
    # The same check, on a module that does use asyncio, must complain.
    assert "asyncio" in forbidden_in(modules_after_importing("asyncio.events"))


# --- The imports go one way ----------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(source: str, name: str, is_package: bool = False) -> set[str]:
    """Every wslearn module that ``source`` (module ``name``) imports, at the top or inside
    a function, relative imports resolved: ``from .x import y`` is ``wslearn.x`` (or
    ``wslearn.x.y`` when that is a module)."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target == "wslearn" or not target.startswith("wslearn."):
                continue
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name:
                found.add(target)
    return found


def imports_in_module(name: str) -> set[str]:
    path = MODULES[name]
    return imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")


@pytest.mark.parametrize("module", CORE_ONLY)
def test_the_core_imports_only_the_core(module: str) -> None:
    # Not the views (explain, eventlog), not asyncio servers, widgets or the demo: not
    # even lazily, inside a function, the way _repr_html_ used to import explain.
    assert imports_in_module(module) - set(CORE_ONLY) == set()


def test_the_top_level_modules_import_each_other_without_a_circle() -> None:
    top = sorted(name for name in MODULES if name.count(".") == 1)
    graph = {name: imports_in_module(name) & set(top) for name in top}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, f"an import circle: {' -> '.join([*path, name])}"
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in top:
        visit(name, [])
    assert "wslearn.http" in graph["wslearn.handshake"]  # the graph is really read


def test_the_import_reader_would_notice() -> None:
    # A lazy import inside a method, relative or absolute, is found like a top-level one.
    source = textwrap.dedent(
        """
        from .errors import ProtocolError

        class Frame:
            def _repr_html_(self):
                from .explain import frame_html
                import wslearn.notebook.widgets
                return frame_html(self)
        """
    )
    found = imports_of(source, "wslearn.frames")
    assert found == {"wslearn.errors", "wslearn.explain", "wslearn.notebook.widgets"}


VIEW_CHECK = """
import json, sys
from wslearn.frames import Close, Frame, Opcode
from wslearn.handshake import Request, Response, accept_key_steps, build_request
objects = [
    Frame(Opcode.TEXT, b"hi"),
    Close(1000, "bye"),
    build_request("h", key="dGhlIHNhbXBsZSBub25jZQ=="),
    Response(404, "Not Found"),
    accept_key_steps("dGhlIHNhbXBsZSBub25jZQ=="),
]
texts = [str(obj) for obj in objects]
before = [obj._repr_html_() for obj in objects]
loaded = "wslearn.explain" in sys.modules
import wslearn.explain
after = [obj._repr_html_() for obj in objects]
print(json.dumps({"texts": texts, "before": before, "loaded": loaded, "after": after}))
"""


def test_html_views_come_from_the_layer_above() -> None:
    result = subprocess.run(
        [sys.executable, "-c", VIEW_CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert all(seen["texts"])  # str() needs nothing above the core
    assert seen["loaded"] is False
    assert seen["before"] == [None] * 5  # Jupyter then shows str()
    assert all(page and page.startswith("<") for page in seen["after"])
