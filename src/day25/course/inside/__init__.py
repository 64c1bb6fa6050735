"""Inside the sandbox: the only code that runs in the same process as a submission.

``python -m day25.course.inside MODE`` imports the student's module and answers
the harness's requests over the wire of :mod:`day25.course.protocol`: in
``scenarios`` mode it runs declarative scenarios on exercises 1 and 2
(:mod:`~day25.course.inside.scenarios`), in ``apps`` mode it serves a fresh
``create_app()`` per test with uvicorn (:mod:`~day25.course.inside.apps`).
Nobody trusts this code's process: it runs confined (rlimits, namespaces, its
own uid; see :mod:`day25.course.sandbox`), the submission may have rewritten
anything in it, and the grader believes only what it can check from the
outside. So nothing here decides a grade or may import the grader, the harness
or the student tools; it imports the bus it exposes (``day25``), the protocol, how
nexios logs (:mod:`day25.course.logs`) and the listening socket of
:mod:`day25.realtime.server` (which the submission itself may not import).
"""
