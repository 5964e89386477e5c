"""Build step that ships the course notebooks inside the wheel (everything else is in pyproject.toml).

The notebooks have one home, ``notebooks/``: the tests run them there and they are committed
there. A wheel carries a copy in ``wslearn/course_notebooks/``, which ``python -m wslearn course``
copies into the student's own folder. An editable install gets no copy: ``wslearn.course``
finds ``notebooks/`` next to the package instead, so it always sees the current files.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


class build_py_with_notebooks(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "wslearn" / "course_notebooks"
        shutil.rmtree(target, ignore_errors=True)  # no notebook left over from an earlier build
        target.mkdir(parents=True)
        for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
            shutil.copyfile(notebook, target / notebook.name)


setup(cmdclass={"build_py": build_py_with_notebooks})
