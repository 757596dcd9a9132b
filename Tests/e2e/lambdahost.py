"""`mcp-host` as a Lambda runtime against the Runtime API double (Tests/lambda_double).

Used by test_lambda.py and scripts/bench-lambda; reuses conftest's build location and plugin
directory helper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # Tests/: the lambda_double package

from conftest import ALL_PLUGINS, HOST_BIN, _require_build, json_log_records, make_plugin_dir, read_logs, to_yaml  # noqa: E402
from lambda_double import RuntimeAPIDouble  # noqa: E402


class LambdaHost:
    """A Runtime API double plus one `mcp-host lambda` process polling it."""

    def __init__(self, workdir: Path, plugins: tuple[str, ...] | list[str] = ALL_PLUGINS,
                 config: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                 args: list[str] | None = None, plugin_dir_mode: int = 0o755, wait: bool = True,
                 timeout_ms: int = 30_000):
        _require_build()
        self.workdir = workdir
        self.double = RuntimeAPIDouble(timeout_ms=timeout_ms).start()
        self.plugin_dir = make_plugin_dir(workdir, plugins, plugin_dir_mode)
        self.args = [str(HOST_BIN)] + (["lambda"] if args is None else args) + ["--plugins", str(self.plugin_dir)]
        if config is not None:
            path = workdir / f"lambda-{id(self)}.yaml"
            path.write_text(to_yaml(config) + "\n")
            self.args += ["--config", str(path)]
        self.env = {**os.environ, "AWS_LAMBDA_RUNTIME_API": self.double.address,
                    "AWS_LAMBDA_FUNCTION_NAME": "mcp-host", "AWS_REGION": "us-east-1", **(env or {})}
        self.stderr_path = workdir / f"lambda-{id(self)}.stderr.log"
        self.started = time.monotonic()
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=self.env,
                                         cwd=workdir)
        if wait:
            self.wait_polling()

    def wait_polling(self, timeout: float = 30.0) -> float:
        """Until the runtime waits in invocation/next; seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mcp-host exited with {self.proc.returncode}: {self.args}\n{self.logs()[-4000:]}")
            try:
                self.double.wait_polling(0.05)
                return time.monotonic() - self.started
            except TimeoutError:
                continue
        raise RuntimeError(f"mcp-host did not poll invocation/next within {timeout}s\n{self.logs()[-4000:]}")

    @property
    def url(self) -> str:
        """The Function URL (the double's invoke front)."""
        return self.double.front_url

    @property
    def mcp_url(self) -> str:
        return self.double.front_url + "/mcp"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.double.stop()
        return self.proc.returncode

    def logs(self) -> str:
        return read_logs(self.stderr_path)

    def log_records(self) -> list[dict[str, Any]]:
        return json_log_records(self.logs())
