"""The kernel runs without debugpy and jedi, which ipykernel and IPython require but import only
if present (the debugger, tab completion): `make serve` and the image leave them out (~55 MB)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LEFT_OUT = ("debugpy", "jedi", "parso")

CHILD = textwrap.dedent(
    """
    import sys
    from jupyter_client.manager import start_new_kernel

    left_out = set(sys.argv[1:])
    code = "import sys, pandas, matplotlib\\n"
    code += f"print(pandas.Series([1, 2, 3]).sum(), sorted(set(sys.modules) & {left_out!r}))"

    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=120)
    try:
        outputs = []
        reply = client.execute_interactive(
            code,
            timeout=120,
            output_hook=lambda msg: outputs.append(msg["content"].get("text", "")),
        )
        print(reply["content"]["status"], "".join(outputs).strip())
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    """
)


def test_the_kernel_runs_code_without_debugpy_or_jedi(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    for name in LEFT_OUT:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name} is absent')\n")
    # First on the path of this child and of the kernel it starts.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(REPO)])}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *LEFT_OUT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == "ok 6 []", child.stdout + child.stderr
