"""What a student runs: ``day25 check`` (:mod:`~day25.course.student.check`),
``day25 start`` (:mod:`~day25.course.student.start`: the student's workspace, with
the lessons' answers taken out by :mod:`~day25.course.answers`).

This code runs on the student's own machine, in the student's interest, and
trusts nothing it is given: ``day25 check`` grades the student's modules
through the very pipeline the instructor uses (:mod:`day25.course.grading`:
the modules are copied out, the public suite runs in a session and talks to a
sandboxed process), so the check and the grade cannot disagree about the same
code. Nothing here decides a grade.
"""
