"""The core of wslearn stays pure: no I/O, no event loop, no notebook machinery.

Students read the core beside RFC 6455, and the asyncio layer, the widgets and the tests all
stand on it. Importing it must not drag in asyncio, sockets, IPython, ipywidgets or the
websockets library (that one is loaded lazily, only for its C masker). Each check runs in a
fresh interpreter, because this test process has long since imported all of those.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = [
    "wslearn.errors",
    "wslearn.frames",
    "wslearn.deflate",
    "wslearn.handshake",
    "wslearn.assembler",
    "wslearn.protocol",
    "wslearn.explain",
]
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
