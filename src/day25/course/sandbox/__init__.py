"""Confinement: how the grader starts a process it does not trust, and ends it.

:mod:`~day25.course.sandbox.rlimits` caps what a process may use,
:mod:`~day25.course.sandbox.namespaces` says what it may see (its own mount,
network and PID namespaces, the hidden tests and solutions masked, a uid of its
own), :mod:`~day25.course.sandbox.processes` starts one (``spawn``) and kills
it with everything it started. The zygote (:mod:`~day25.course.sandbox.zygote_server`,
run inside the sandbox, never importing submission code) forks a submission's
processes already confined; :mod:`~day25.course.sandbox.zygote` is the
grader's handle on it. The grader trusts this code; the processes it starts
are trusted by nobody.
"""
