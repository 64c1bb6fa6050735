"""Attacks on the grader's processes, wrapped around the solution by ``classroom.py``."""

#: signals the process that forked it (the zygote) and every process it may signal: the
#: sandbox lets it signal its own processes only, so it loses nothing and the grader no test
KILL_SUPERVISOR = """
import os, signal
async def _kill_then_emit(self, *args, **kwargs):
    for pid in (os.getppid(), -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return await self.emit_(*args, **kwargs)
PriorityEmitter.emit = _kill_then_emit
"""

#: forks at import; each child leaves its session and leaves a grandchild behind that holds
#: the process's output pipes open (the per-test and per-exercise limits must still hold)
FORK_DETACHED = """
import os, time
for _ in range(20):  # one detached grandchild is enough to hold the pipes; 20 stay cheap
    try:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(900)
            os._exit(0)
    except OSError:
        break
"""
