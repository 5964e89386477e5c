"""``python -m wslearn.locale zh_CN``: the messages the Chinese catalogue still lacks."""

import sys

from . import main

sys.exit(main())
