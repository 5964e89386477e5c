"""The instructor kit: nbgrader assignments built from the exercise registry."""
