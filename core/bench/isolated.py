"""Measurements in a fresh interpreter, so each run's time and peak memory are its own."""

from __future__ import annotations

import json
import subprocess
import sys

from core.errors import CoreError


def peak_rss_bytes() -> int:
    """Peak resident memory of this process in bytes.

    Reads ``VmHWM`` (the high-water mark of this address space) rather than ``ru_maxrss``:
    on Linux a child started from a big parent inherits the parent's ``ru_maxrss`` across
    fork + exec, which would charge the parent's memory to the measured run.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


def run_in_fresh_process(module: str, function: str, **kwargs: object) -> dict:
    """Call ``module.function(**kwargs)`` in a new interpreter; return its dataclass as a dict.

    Keyword values travel as JSON, so pass strings/numbers (paths as ``str``; the function
    converts them).

    Raises:
        CoreError: With the end of the child's stderr when the run fails.
    """
    code = ("import json, sys, importlib; from dataclasses import asdict; "
            f"m = importlib.import_module({module!r}); "
            f"print(json.dumps(asdict(m.{function}(**json.loads(sys.argv[1])))))")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise CoreError(f"benchmark run failed:\n{out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
