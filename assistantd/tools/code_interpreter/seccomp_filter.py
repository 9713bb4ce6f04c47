"""The seccomp filter every sandboxed kernel runs under, compiled to the BPF program that
``bwrap --seccomp FD`` installs right before it starts the launcher.

Namespaces hide the host, but each new *user* namespace hands the code a full set of
capabilities over its own objects, which opens kernel code (nf_tables, mount, …) that an
unprivileged process otherwise never reaches; most sandbox escapes go through there. So the
syscalls that create or enter namespaces, mount, trace, load kernel code or program the kernel
(bpf, keyctl, perf, userfaultfd, io_uring) fail with EPERM; everything else is allowed.

Built with libseccomp (through ``pyseccomp``, its ctypes binding): it resolves syscall numbers
per architecture and adds the architecture check itself (a syscall made through another ABI,
say 32-bit ``int 0x80`` on x86_64, kills the process instead of slipping past the rules).
"""

from __future__ import annotations

import errno
import os
import socket
from functools import cache
from typing import Any

# Fail with EPERM, as if the sandbox lacked the privilege (which it does).
DENIED_SYSCALLS = (
    # namespaces and filesystem views
    "unshare",
    "setns",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "open_by_handle_at",
    "name_to_handle_at",
    # other processes' memory
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    # programs and tables inside the kernel
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    # the machine itself
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "iopl",
    "ioperm",
    "personality",
    "vhangup",
)
# Flags that make clone() create namespaces (the clone variant of unshare).
NAMESPACE_CLONE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
UNKNOWN_SYSCALL = -1  # __NR_SCMP_ERROR
NETLINK_ROUTE = 0  # what glibc uses for if_nameindex/getaddrinfo; every other family is denied


class SeccompUnavailable(RuntimeError):
    """libseccomp (or its Python binding) is missing: the sandbox must not start."""


@cache
def filter_program() -> bytes:
    """The compiled classic-BPF program (``struct sock_filter[]``), built once per process."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # OSError: the binding found no libseccomp.so
        raise SeccompUnavailable(
            f"libseccomp unavailable ({exc}); pip install pyseccomp, apt-get install libseccomp2"
        ) from exc
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        _add(seccomp, rules, deny, name)
    for flag in NAMESPACE_CLONE_FLAGS:
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in a struct a filter cannot read; ENOSYS makes glibc fall back
    # to clone(), whose flags the rules above check.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    netlink = seccomp.Arg(0, seccomp.EQ, socket.AF_NETLINK)
    rules.add_rule(deny, "socket", netlink, seccomp.Arg(2, seccomp.NE, NETLINK_ROUTE))
    return _exported(rules)


def _add(seccomp: Any, rules: Any, action: int, name: str) -> None:
    # libseccomp knows every architecture's names (iopl on aarch64 maps to a pseudo number it
    # drops); -1 means this libseccomp is older than the syscall, so there is no number to deny.
    if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) != UNKNOWN_SYSCALL:
        rules.add_rule(action, name)


def _exported(rules: Any) -> bytes:
    fd = os.memfd_create("assistantd-seccomp-export", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "wb") as sink:
            rules.export_bpf(sink)
        os.lseek(fd, 0, os.SEEK_SET)
        with os.fdopen(os.dup(fd), "rb") as source:
            return source.read()
    finally:
        os.close(fd)


def program_fd() -> int:
    """A fresh readable fd holding the program, positioned at its start (bwrap reads it to the
    end); the caller passes it to bwrap and closes it."""
    fd = os.memfd_create("assistantd-seccomp", os.MFD_CLOEXEC)
    try:
        os.write(fd, filter_program())
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd
