"""Which user ids own processes on this host right now (read from ``/proc``).

A sandbox uid must not be shared: the kernel's process limit counts every process of a uid, so a
session whose uid still has processes (a fork bomb not yet reaped, or a session of another server
process on the same host) would starve or be starved by the new one.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def live_uids() -> set[int]:
    uids: set[int] = set()
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            try:
                uids.add(os.stat(entry.path).st_uid)
            except FileNotFoundError:  # the process ended while we looked
                continue
    return uids
