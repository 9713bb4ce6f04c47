"""Running the real ``assistantd`` command in a process of its own, with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def environment(data_dir: Path, **variables: str) -> dict[str, str]:
    """This process's environment without its ``ASSISTANTD_*`` variables, plus ``variables``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANTD_")}
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**kept, "PYTHONPATH": path, "ASSISTANTD_DATA_DIR": str(data_dir), **variables}


def assistantd(
    *args: str, data_dir: Path, timeout: float = 120, **variables: str
) -> subprocess.CompletedProcess[str]:
    """``assistantd ARGS`` to its end; its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "assistantd", *args],
        env=environment(data_dir, **variables),
        cwd=str(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
