"""``python -m wslearn course | serve | connect | check``: your copy of the course, the demo server,
a wscat-like client, a report card."""

from __future__ import annotations

import sys

USAGE = """\
usage: python -m wslearn COMMAND [options]

commands:
  course   copy the course notebooks into ./wslearn-course and open JupyterLab there
           (--lang zh-CN: the Chinese edition, 中文版)
  serve    run the demo server (echo, push, heartbeats, chat, browser page)
  connect  a terminal client: each line you type is sent as a text message
  check    grade a WebSocket echo server against RFC 6455, case by case
  kit      the instructor kit: build, release or check the nbgrader course; the Binder badge

`python -m wslearn COMMAND --help` shows the options of each command.
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "course":
        from .course import course_main

        return course_main(rest)
    if command == "serve":
        from .demo.cli import serve_main

        return serve_main(rest)
    if command == "connect":
        from .aio.cli import connect_main

        return connect_main(rest)
    if command == "check":
        from .conformance.cli import check_main

        return check_main(rest)
    if command == "kit":
        from .kit.cli import kit_main

        return kit_main(rest)
    print(f"wslearn: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
