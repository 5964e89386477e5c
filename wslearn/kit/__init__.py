"""The instructor kit: an nbgrader course built from the exercise registry.

* :mod:`.build` writes ``course/source/``: one assignment per chapter (its exercises and
  checkpoint), solutions and hidden grade cells inside;
* :mod:`.grading` is what a graded notebook calls: the student's seed, and a score per
  exercise from the same case table as the chapter's self-check;
* :mod:`.capstones` and :mod:`.seedfix` are the three capstones and their checks;
* :mod:`.guide` refreshes the chapter sections of ``course/README.md``;
* :mod:`.badge` makes the Binder badge from one variable;
* :mod:`.cli` is ``python -m wslearn kit build | release | check | badge``.
"""
