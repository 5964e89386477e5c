"""nbgrader's configuration for the wslearn course (run nbgrader commands in this folder)."""

from wslearn.kit.build import cell_timeout

c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "wslearn"
c.Execute.timeout = cell_timeout()
c.Execute.interrupt_on_timeout = True
