"""Build step that ships the course notebooks inside the wheel (everything else is in pyproject.toml).

The notebooks have one home, ``notebooks/``: the tests run them there and they are committed
there. A wheel carries a copy in ``wslearn/course_notebooks/`` (with ``extra/``, ``zh-CN/`` and
``zh-CN/extra/`` in the same layout), which ``python -m wslearn course``
copies into the student's own folder. An editable install gets no copy: ``wslearn.course``
finds ``notebooks/`` next to the package instead, so it always sees the current files.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
#: The folders of notebooks/ the wheel carries, in the same layout: the English chapters, the
#: extra notebooks (errata, glossary) and the Chinese edition (``--lang zh-CN``).
COURSE_FOLDERS = ("", "extra", "zh-CN", "zh-CN/extra")


class build_py_with_notebooks(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "wslearn" / "course_notebooks"
        shutil.rmtree(target, ignore_errors=True)  # no notebook left over from an earlier build
        target.mkdir(parents=True)
        for folder in COURSE_FOLDERS:
            for notebook in sorted((NOTEBOOKS / folder).glob("*.ipynb")):
                copy = target / folder / notebook.name
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, copy)


setup(cmdclass={"build_py": build_py_with_notebooks})
