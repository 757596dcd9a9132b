"""Fixtures that run the real `mcp-host` binary.

Environment:
  MCPHOST_BUILD_DIR   directory holding mcp-host and the plugin .so files (default: <repo>/.build/debug)
  MCPHOST_E2E_KEEP    if set, temp dirs (plugin dir, config, logs) are kept for inspection
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("MCPHOST_BUILD_DIR", ".build/debug"))
BUILD_DIR = _build if _build.is_absolute() else REPO / _build
HOST_BIN = BUILD_DIR / "mcp-host"

PLUGIN_FILES = {
    "echo": "libMCPPluginEcho.so",
    "cecho": "libMCPPluginCEcho.so",
    "faults": "libMCPTestPluginFaults.so",
}
ALL_PLUGINS = tuple(PLUGIN_FILES)
START_TIMEOUT = float(os.environ.get("MCPHOST_E2E_START_TIMEOUT", "30"))



def read_logs(path: Path) -> str:
    """The host's stderr so far ("" before it wrote any)."""
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def json_log_records(text: str) -> list[dict[str, Any]]:
    """The JSON log lines of `text` as objects (other lines skipped)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out

def _require_build() -> None:
    missing = [str(p) for p in [HOST_BIN, *(BUILD_DIR / f for f in PLUGIN_FILES.values())] if not p.exists()]
    if missing:
        pytest.fail("missing build products (run `swift build` or set MCPHOST_BUILD_DIR): " + ", ".join(missing),
                    pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_yaml(value: Any, indent: int = 0) -> str:
    """A tiny YAML emitter for nested dicts/lists of scalars (no PyYAML dependency)."""
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for v in value:
            if isinstance(v, dict) and v:
                inner = to_yaml(v, indent + 1).lstrip()
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {_scalar(v)}")
        return "\n".join(lines)
    return pad + _scalar(value)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, dict)):
        return "[]" if isinstance(v, list) else "{}"
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def make_plugin_dir(parent: Path, plugins: tuple[str, ...] | list[str], mode: int = 0o755,
                    extra_files: dict[str, bytes] | None = None) -> Path:
    d = Path(tempfile.mkdtemp(prefix="plugins-", dir=parent))
    for p in plugins:
        dst = d / PLUGIN_FILES[p]
        shutil.copyfile(BUILD_DIR / PLUGIN_FILES[p], dst)
        os.chmod(dst, 0o755)
    for name, data in (extra_files or {}).items():
        (d / name).write_bytes(data)
        os.chmod(d / name, 0o755)
    os.chmod(d, mode)
    return d


class Host:
    """One running `mcp-host serve` process."""

    def __init__(self, workdir: Path, plugins: tuple[str, ...] | list[str] = ALL_PLUGINS,
                 config: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                 plugin_dir_mode: int = 0o755, extra_args: list[str] | None = None, wait: bool = True,
                 extra_files: dict[str, bytes] | None = None):
        _require_build()
        self.workdir = workdir
        self.plugin_dir = make_plugin_dir(workdir, plugins, plugin_dir_mode, extra_files)
        self.config_path: Path | None = None
        if config is not None:
            self.config_path = workdir / f"mcp-host-{id(self)}.yaml"
            self.config_path.write_text(to_yaml(config) + "\n")
        self.env = {**os.environ, **(env or {})}
        self.extra_args = extra_args or []
        self.path = ((config or {}).get("server") or {}).get("path", "/mcp")
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = workdir / f"host-{id(self)}.stderr.log"
        self.stdout_path = workdir / f"host-{id(self)}.stdout.log"
        self.port = 0
        self._start(wait)

    # -- lifecycle ------------------------------------------------------------------------------
    def _start(self, wait: bool) -> None:
        last = ""
        for _attempt in range(3):
            self.port = free_port()
            args = [str(HOST_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                    "--plugins", str(self.plugin_dir)]
            if self.config_path is not None:
                args += ["--config", str(self.config_path)]
            args += self.extra_args
            self.args = args
            with open(self.stderr_path, "ab") as err, open(self.stdout_path, "ab") as out:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                             env=self.env, cwd=self.workdir)
            if not wait:
                return
            try:
                self.wait_ready()
                return
            except RuntimeError as e:
                last = str(e)
                if "address already in use" not in self.logs().lower():
                    break
        raise RuntimeError(last)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> float:
        """Poll GET /health until 200; returns the seconds it took."""
        assert self.proc is not None
        t0 = time.monotonic()
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mcp-host exited with {self.proc.returncode} before ready: {self.args}\n"
                                   f"--- stderr ---\n{self.logs()[-4000:]}")
            try:
                r = httpx.get(self.url + "/health", timeout=1.0)
                if r.status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mcp-host not ready after {timeout}s: {self.args}\n--- stderr ---\n{self.logs()[-4000:]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    # -- addresses ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return self.url + self.path

    # -- logs -----------------------------------------------------------------------------------
    def logs(self) -> str:
        return read_logs(self.stderr_path)

    def log_records(self) -> list[dict[str, Any]]:
        return json_log_records(self.logs())

    def stdout(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@pytest.fixture(scope="session")
def workroot() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="mcphost-e2e-"))
    yield d
    if not os.environ.get("MCPHOST_E2E_KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    else:
        print(f"\n[e2e] kept {d}", file=sys.stderr)


@pytest.fixture(scope="session")
def host(workroot: Path) -> Iterator[Host]:
    """A shared server with all three plugins and the default configuration."""
    try:
        h = Host(workroot, ALL_PLUGINS)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield h
    crashed = not h.alive()
    code = h.stop()
    if crashed:
        # Surface a crash that happened during the session (tests would show connection errors).
        print(f"\n[e2e] shared mcp-host had exited with {code}; stderr tail:\n{h.logs()[-3000:]}", file=sys.stderr)


@pytest.fixture(scope="session")
def fault_host(workroot: Path) -> Iterator[Host]:
    """A server with a short per-call deadline for the fault-injection tests."""
    try:
        h = Host(workroot, ALL_PLUGINS, config={"server": {"call_timeout_ms": 1500}})
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield h
    h.stop()


@pytest.fixture
def make_host(workroot: Path) -> Iterator[Any]:
    """Factory for a dedicated server: make_host(plugins=..., config=..., env=...)."""
    started: list[Host] = []

    def factory(**kw: Any) -> Host:
        h = Host(workroot, **kw)
        started.append(h)
        return h

    yield factory
    for h in started:
        h.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0)) as c:
        # httpx sends "Accept: */*" by default; tests set Accept themselves (or omit it on purpose).
        del c.headers["accept"]
        yield c


class StdioSpec:
    """How to launch `mcp-host stdio` (for the official client and for raw tests)."""

    def __init__(self, workroot: Path, plugins: tuple[str, ...] = ALL_PLUGINS,
                 config: dict[str, Any] | None = None, env: dict[str, str] | None = None):
        _require_build()
        self.plugin_dir = make_plugin_dir(workroot, plugins)
        self.args = ["stdio", "--plugins", str(self.plugin_dir)]
        if config is not None:
            cfg = workroot / f"stdio-{id(self)}.yaml"
            cfg.write_text(to_yaml(config) + "\n")
            self.args += ["--config", str(cfg)]
        self.command = str(HOST_BIN)
        self.env = {**os.environ, **(env or {})}
        self.stderr_path = workroot / f"stdio-{id(self)}.stderr.log"

    def popen(self) -> subprocess.Popen[bytes]:
        err = open(self.stderr_path, "ab")
        try:
            return subprocess.Popen([self.command, *self.args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, env=self.env)
        finally:
            err.close()

    def logs(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@pytest.fixture
def stdio_spec(workroot: Path) -> StdioSpec:
    return StdioSpec(workroot)


def pytest_report_header(config: Any) -> list[str]:
    return [f"mcp-host: {HOST_BIN} ({'present' if HOST_BIN.exists() else 'MISSING'})"]


def is_group_or_world_writable(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH))
