"""Ends an emulator when the test run that started it is gone.

Tests stop their emulators in afterAll, and kill the whole process group on
teardown; this covers the case where the test process itself is killed
(a timeout, Ctrl-C on a worker) and no teardown runs: the emulator notices its
parent changed and exits, so no orphan keeps a port or a CPU busy.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(interval_seconds: float = 1.0) -> None:
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_seconds)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
