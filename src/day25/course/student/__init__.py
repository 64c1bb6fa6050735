"""What a student runs: ``day25 check`` (:mod:`~day25.course.student.check`),
``day25 hint`` (:mod:`~day25.course.student.hints`), ``day25 start``
(:mod:`~day25.course.student.start` and :mod:`~day25.course.student.workspace`: the
student's workspace, with the lessons' answers taken out by
:mod:`~day25.course.answers`), and the notebooks' ``load`` / ``check`` /
``hint_button`` (:mod:`~day25.course.student.notebook`).

This code runs on the student's own machine, in the student's interest, and
trusts nothing it is given: ``day25 check`` grades a project's modules through
the very pipeline the instructor uses (:mod:`day25.course.grading`: the modules
are copied out, the public suite runs in a session and talks to a sandboxed
process), so the check and the grade cannot disagree about the same code. The
ladder's ungraded steps skip that pipeline: :mod:`~day25.course.student.steps`
runs a step's check in a child process of its own (no grade to agree with).
Nothing here decides a grade.
"""
