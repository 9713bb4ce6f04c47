"""The long fuzzing run: ``python -m bench.fuzz --requests 20000 [--backend sqlite|postgresql]``
(``make fuzz``). Prints, per backend: requests sent by operation and by status class, the 5xx,
hangs and contract violations found, and the first findings of each kind. Exit status 1 if any.
The short version of the same campaign runs in the suite (``tests/fuzz/test_fuzz.py``)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from assistantd.scripted_model.testing import running_scripted_model
from tests.fuzz.campaign import Campaign, Findings
from tests.fuzz.seed import seed_objects
from tests.fuzz.servers import fuzzed_server
from tests.harness.databases import BACKENDS, postgres_unavailable_reason


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000, help="per backend")
    parser.add_argument("--backend", choices=BACKENDS, action="append")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds: a hang beyond")
    parser.add_argument("--show", type=int, default=10, help="findings printed of each kind")
    args = parser.parse_args()
    found = 0
    with running_scripted_model() as model:
        for backend in args.backend or BACKENDS:
            if backend == "postgresql" and (reason := postgres_unavailable_reason()):
                print(f"## postgresql: skipped ({reason})")
                continue
            with (
                tempfile.TemporaryDirectory() as data_dir,
                fuzzed_server(backend, Path(data_dir), model) as base_url,
            ):
                campaign = Campaign(
                    base_url, lambda url=base_url: seed_objects(url), timeout=args.timeout
                )
                started = time.monotonic()
                findings = campaign.run(args.requests)
                elapsed = time.monotonic() - started
            report(backend, findings, elapsed, args.show)
            found += len(findings.problems())
    return 1 if found else 0


def report(backend: str, findings: Findings, elapsed: float, show: int) -> None:
    print(f"\n## {backend}: {findings.sent} requests in {elapsed:.0f} s\n")
    print(f"| {'operation':<62} | requests |\n| {'-' * 62} | -------- |")
    for operation, count in sorted(findings.by_operation.items()):
        print(f"| {operation:<62} | {count:>8} |")
    print(f"\n| {'status':<40} | count |\n| {'-' * 40} | ----- |")
    for status, count in sorted(findings.by_status.items()):
        print(f"| {status:<40} | {count:>5} |")
    print(f"\nnot sendable by an HTTP client (skipped): {findings.unsendable}")
    print(f"5xx / dropped connections: {len(findings.server_errors)}")
    print(f"hangs: {len(findings.hangs)}")
    print(f"contract violations: {len(findings.contract.violations)}")
    for title, items in (
        ("5xx", findings.server_errors),
        ("hangs", findings.hangs),
        ("violations", findings.contract.violations),
    ):
        for item in items[:show]:
            print(f"- {title}: {item}")


if __name__ == "__main__":
    sys.exit(main())
