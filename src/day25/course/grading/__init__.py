"""The grader's side: everything that decides a grade, and only trusted code.

A batch (:mod:`~day25.course.grading.batch`) finds the students of a class folder
(:mod:`~day25.course.grading.students`), takes each student's modules out
of a folder or zip (:mod:`~day25.course.grading.intake`), runs the suites in
pytest sessions forked from a warm server (:mod:`~day25.course.grading.sessions`,
:mod:`~day25.course.grading.session_server`), reads the verdict back from a
file only it can write (:mod:`~day25.course.grading.verdict`) and writes the
feedback, the gradebook and the plot (:mod:`~day25.course.grading.feedback`,
:mod:`~day25.course.grading.gradebook`). ``day25 gradescope`` and ``day25
release`` build what leaves the instructor's machine; the mutants test the
suites; ``similarity`` and ``review`` read submissions for the instructor and
never touch a grade. The grading processes never import submission code: the suites talk
to it through :mod:`day25.course.harness`, which runs it in the sandbox.
"""
