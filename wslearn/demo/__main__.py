"""``python -m wslearn.demo``: the same as ``python -m wslearn serve``."""

import sys

from .cli import serve_main

sys.exit(serve_main())
