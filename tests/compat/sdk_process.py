"""The official SDKs, each in its own virtualenv, driven from the tests.

The SDKs pin versions that clash with ours (pydantic, urllib3), so each is installed from PyPI
into its own virtualenv under ``.cache/compat-sdks/`` (git-ignored; ``JOBCENTER_SDK_CACHE``
moves it), created on first use and reused while its requirements file is unchanged. A test
talks to an SDK through a small driver script (``sdk/<name>_driver.py``) running in that
virtualenv: one JSON command per line in, one JSON answer per line out.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("JOBCENTER_SDK_CACHE", REPO / ".cache" / "compat-sdks"))
REQUIREMENTS = {
    "graphscope": HERE / "sdk" / "requirements-graphscope.txt",
    "ges": HERE / "sdk" / "requirements-ges.txt",
}
DRIVERS = {
    "graphscope": HERE / "sdk" / "graphscope_driver.py",
    "ges": HERE / "sdk" / "ges_driver.py",
}


def sdk_python(name: str) -> Path:
    """The interpreter of the SDK's virtualenv, creating the virtualenv when needed."""
    requirements = REQUIREMENTS[name]
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"{name}-{digest}"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be installing it right now
        if marker.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(
                f"installing the {name} SDK from PyPI failed:\n{install.stdout}\n{install.stderr}"
            )
        marker.write_text(digest)
    return python


class SdkProcess:
    """A driver script running in an SDK's virtualenv; call it with ``sdk("op", **args)``."""

    def __init__(self, name: str, env: dict[str, str], timeout: float = 120.0) -> None:
        self.name = name
        self.timeout = timeout
        self.home = tempfile.mkdtemp(prefix=f"sdk-{name}-")  # the GES SDK writes ~/.huaweicloud
        self.stderr = Path(self.home) / "stderr.log"
        clean = {
            k: v
            for k, v in os.environ.items()
            if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
            and not k.startswith(("DJANGO_", "JOBCENTER_", "PYTHON"))
        }
        self.proc = subprocess.Popen(
            [str(sdk_python(name)), str(DRIVERS[name])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr.open("w"),
            text=True,
            env={**clean, "HOME": self.home, "NO_PROXY": "*", "no_proxy": "*", **env},
        )

    def __call__(self, op: str, **kwargs: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **kwargs}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            raise AssertionError(
                f"the {self.name} SDK driver gave no answer to {op}:\n{self.stderr.read_text()}"
            )
        reply = json.loads(line)
        if "crash" in reply:
            raise AssertionError(f"the {self.name} SDK raised in {op}:\n{reply['crash']}")
        return reply

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)
