"""Read wslearn's own code beside the RFC, without leaving the notebook.

::

    from wslearn.notebook import show_source
    from wslearn.handshake import accept_key

    show_source(accept_key)      # the function, highlighted, with links to the RFC sections it cites

The code is the installed code (``inspect.getsource``), so what a chapter shows is exactly
what runs. Each "§4.2.2" written in the code becomes a link to that section of RFC 6455.
"""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass
from typing import Any

RFC_URL = "https://www.rfc-editor.org/rfc/rfc6455"
_SECTION = re.compile(r"§\s?(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class Source:
    """The source of one function, class or module, with where it lives and what it cites."""

    name: str
    filename: str
    first_line: int
    code: str

    @property
    def sections(self) -> list[str]:
        """The RFC 6455 sections the code cites, each once, in order of first mention."""
        return list(dict.fromkeys(_SECTION.findall(self.code)))

    def __str__(self) -> str:
        sections = ", ".join(f"§{number}" for number in self.sections)
        cited = f"cites RFC 6455 {sections}" if sections else "cites no RFC section"
        return f"# {self.name} ({self.filename}, line {self.first_line}; {cited})\n{self.code}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        links = " ".join(
            f"<a href='{RFC_URL}#section-{number}' target='_blank' rel='noopener'>§{number}</a>"
            for number in self.sections
        )
        cited = f"RFC 6455 {links}" if links else "cites no RFC section"
        where = (
            f"<code>{html.escape(self.name)}</code> — {html.escape(self.filename)}, line {self.first_line}"
        )
        return (
            f"<div class='wslearn-source'><p>{where} · {cited}</p>"
            f"<div style='max-height:32em;overflow:auto'>{highlight(self.code)}</div></div>"
        )


def show_source(obj: Any) -> Source:
    """The source of ``obj`` (a function, method, class or module), ready to display."""
    target = inspect.unwrap(obj)
    try:
        lines, first_line = inspect.getsourcelines(target)
        filename = inspect.getsourcefile(target) or "?"
    except (TypeError, OSError) as error:
        raise TypeError(f"no Python source for {obj!r}: {error}") from None
    module = getattr(inspect.getmodule(target), "__name__", "")
    qualname = getattr(target, "__qualname__", getattr(target, "__name__", ""))
    name = f"{module}.{qualname}" if qualname and module != qualname else module
    return Source(name, _short_path(filename, module), max(first_line, 1), "".join(lines))


def _short_path(filename: str, module: str) -> str:
    """``wslearn/handshake.py`` rather than the full path of the installed package."""
    parts = filename.replace("\\", "/").split("/")
    top = module.split(".", 1)[0]
    return "/".join(parts[parts.index(top) :]) if top in parts else parts[-1]


def highlight(code: str) -> str:
    """Code as HTML with inline colours (Pygments), so it survives a static notebook view."""
    from pygments import highlight as pygments_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    formatter = HtmlFormatter(noclasses=True, nobackground=True)
    return _link_sections(pygments_highlight(code, PythonLexer(), formatter))


def _link_sections(rendered: str) -> str:
    """Each "§5.2" inside the highlighted code becomes a link (the text is already escaped)."""
    return _SECTION.sub(
        lambda match: (
            f"<a href='{RFC_URL}#section-{match.group(1)}' target='_blank' "
            f"rel='noopener'>{match.group(0)}</a>"
        ),
        rendered,
    )
