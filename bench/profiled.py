"""Run a console script (``twostep serve --workers 1``) under cProfile, switched by signals.

The clock is the wall clock (``time.perf_counter``, cheap: cProfile then costs about 2x);
``PROFILE_CLOCK=cpu`` takes the process's CPU time instead, which preemption on a shared
machine cannot inflate, but each reading is a system call and the profiler then costs
about 5x, inflating functions called often. The time the event loop waits in its poll is
in no profiled function either way (the loop was entered before profiling began). The
profiler starts off: SIGUSR1 turns it on, SIGUSR2 off (the benchmark profiles
its timed runs only, not the start-up and the warm-up), and the profile is written when the
script returns (``serve`` does on SIGTERM).

    python -m bench.profiled OUT.prof /path/to/.venv/bin/twostep serve --workers 1 ...
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, script = Path(sys.argv[1]), sys.argv[2]
    sys.argv = sys.argv[2:]
    code = compile(Path(script).read_text(), script, "exec")
    cpu = os.environ.get("PROFILE_CLOCK") == "cpu"
    profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()

    def switch(signum: int, _frame: FrameType | None) -> None:
        # Python runs signal handlers on the main thread: the event loop's, where the
        # validations run (SQLite is called on the loop).
        if signum == signal.SIGUSR1:
            profiler.enable()
        else:
            profiler.disable()

    signal.signal(signal.SIGUSR1, switch)
    signal.signal(signal.SIGUSR2, switch)
    status = 0
    try:
        exec(code, {"__name__": "__main__", "__file__": script})  # noqa: S102 (the script)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0
    finally:
        profiler.disable()
        profiler.dump_stats(out)
    return status


if __name__ == "__main__":
    sys.exit(main())
