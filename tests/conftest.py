"""Settings for the whole suite.

The suite does not depend on the machine's locale: wslearn speaks the language of ``WSLEARN_LANG``,
else of ``LC_ALL``/``LC_MESSAGES``/``LANG`` (see :mod:`wslearn.i18n`), and on a machine set up in
Chinese every English expectation would fail. So the tests run in English unless ``WSLEARN_LANG``
says otherwise. It is set at import time, before any test starts a kernel: the kernels that
nbclient starts inherit it. The Chinese notebooks still speak Chinese: their first cell calls
``set_language("zh_CN")``, and the tests of the catalogue choose their language themselves.
"""

from __future__ import annotations

import os

os.environ.setdefault("WSLEARN_LANG", "en")
