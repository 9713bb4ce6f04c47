"""Resource limits applied to every sandboxed kernel."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from assistantd.config import Settings

MIB = 1024 * 1024


@dataclass(frozen=True)
class ResourceLimits:
    """Kernel-enforced ceilings (rlimits) plus the size of the private ``/tmp``.

    ``cpu_seconds`` counts over the kernel's whole life, not per execution (the wall-clock
    timeout covers one execution); a kernel that reaches it is killed and the next call
    starts a fresh session.
    """

    cpu_seconds: int = 1800
    memory_bytes: int = 1024 * MIB  # private writable memory (RLIMIT_DATA) of each process
    processes: int = 64  # tasks (threads included) of the sandbox uid (RLIMIT_NPROC)
    file_size_bytes: int = 512 * MIB  # largest single file the code may write (RLIMIT_FSIZE)
    open_files: int = 512
    tmp_bytes: int = 256 * MIB  # tmpfs at /tmp

    @classmethod
    def from_settings(cls, settings: Settings) -> ResourceLimits:
        return cls(
            cpu_seconds=max(600, int(settings.code_interpreter_exec_timeout_seconds * 30)),
            memory_bytes=settings.code_interpreter_memory_mb * MIB,
            file_size_bytes=settings.max_file_bytes,
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
