"""Course tooling, split by which side of the sandbox each part runs on.

* :mod:`~day25.course.catalogue`: the exercises (``exercises/catalogue.toml``);
  nothing else names one.
* :mod:`~day25.course.protocol`: every message between the processes below.
* :mod:`~day25.course.logs`: how nexios logs in the processes below that fork or
  run an app (directly, from no thread of its own).
* :mod:`~day25.course.grading`: the grader's side, which decides the grade
  (intake, sessions, the verdict, feedback, the gradebook, Gradescope, release).
* :mod:`~day25.course.student`: what a student runs (``day25 check``, ``day25 hint``,
  ``day25 start``, the notebooks' helpers).
* :mod:`~day25.course.harness`: the grader's clients of the sandboxed processes,
  and the pytest plugin the graded suites use.
* :mod:`~day25.course.sandbox`: confinement (rlimits, namespaces, a uid of its
  own) and the zygote that forks sandboxed processes.
* :mod:`~day25.course.inside`: the only code of the grading pipeline that shares a
  process with a submission. The grader's side imports none of it (the sandbox's
  warm servers preload it by name, to fork inside processes ready); the student's
  own tools reuse its off-limits rule (:mod:`~day25.course.student.steps`).

Nothing here imports submission code into a process that decides a grade.
``docs/dev/contracts.md`` draws how a submission travels from ``day25 grade``
to ``gradebook.csv``.
"""
