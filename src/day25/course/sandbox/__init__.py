"""Confinement: how the grader starts a process it does not trust, and ends it.

:mod:`~day25.course.sandbox.rlimits` caps what a process may use;
:mod:`~day25.course.sandbox.view` says what it may see (the allow-list, as
data), :mod:`~day25.course.sandbox.bwrap` has bubblewrap build that view,
:mod:`~day25.course.sandbox.namespaces` says which sandbox this machine gives
and puts a process in it, :mod:`~day25.course.sandbox.privileges` drops a
forked one to its uid; :mod:`~day25.course.sandbox.processes` starts one
(``spawn``) and kills it with everything it started. The zygote
(:mod:`~day25.course.sandbox.zygote_server`, run inside the sandbox, never
importing submission code) forks a submission's processes already confined;
:mod:`~day25.course.sandbox.zygote` is the grader's handle on it;
:mod:`~day25.course.sandbox.beneath` is how the grader uses paths in a folder a
submission can write (following none of its links). The grader trusts this code;
the processes it starts are trusted by nobody. One module of it runs on the other
side: :mod:`~day25.course.sandbox.zygote_server`'s ``serve`` is the zygote itself,
confined and under the submission's uid (the session server, trusted, only forks
its supervisors).
"""
