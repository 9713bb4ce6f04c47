"""Runs *inside* the sandbox: drop to the sandbox uid, apply rlimits, start the IPython kernel.

It is bind-mounted read-only into the sandbox and run by the sandbox's Python, so it must
import nothing from ``assistantd``. Argument: one JSON object with ``connection_file``,
``limits`` (see ``ResourceLimits``) and ``uid`` (an int to switch to, or null to stay).
"""

import json
import os
import resource
import sys

_RLIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    # Not RLIMIT_AS: an idle kernel already reserves ~650 MB of address space (8 MB stack and
    # a 64 MB malloc arena per thread, mostly never touched), so a 512 MB AS limit failed to
    # start at all. RLIMIT_DATA counts the private writable memory the code can actually fill
    # (heap, anonymous mmaps; ~120 MB idle, ~220 MB with pandas and matplotlib loaded).
    "memory_bytes": resource.RLIMIT_DATA,
    "processes": resource.RLIMIT_NPROC,
    "file_size_bytes": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
}


def drop_privileges(uid: int) -> None:
    # Started as root (only CAP_SETUID/CAP_SETGID kept) so the kernel can run as a host uid of
    # its own: RLIMIT_NPROC is not enforced for uid 0, and the uid owns nothing else on the host.
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def apply_limits(limits: dict[str, int]) -> None:
    for name, which in _RLIMITS.items():
        if name in limits:
            resource.setrlimit(which, (limits[name], limits[name]))


def main() -> None:
    config = json.loads(sys.argv[1])
    if config.get("uid") is not None:
        drop_privileges(int(config["uid"]))
    apply_limits(config["limits"])
    for module in config.get("preload", []):
        __import__(module)
    from ipykernel.kernelapp import launch_new_instance

    sys.argv = [
        "ipykernel",
        "-f",
        config["connection_file"],
        "--HistoryManager.enabled=False",
        "--IPKernelApp.quiet=True",
    ]
    launch_new_instance()


if __name__ == "__main__":
    main()
