"""Course tooling: catalogue, the grading harness (child processes), the sandbox.

Nothing here imports submission code into the process that decides a grade;
see :mod:`day25.course.harness`.
"""
