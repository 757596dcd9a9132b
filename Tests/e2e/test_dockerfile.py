"""The runtime stage of the Dockerfile holds exactly the system libraries the host and plugins load.

No Docker engine runs here, so this checks the Dockerfile against the built binaries: `ldd` on
mcp-host and every bundled plugin, each library mapped to its Debian package with `dpkg -S`.
Swift runtime libraries must come from the build stage's /usr/lib/swift/linux copy; every other
library must belong to a package the runtime stage installs (or to the base image's libc6 and
libgcc-s1), and every installed package must be needed (ca-certificates aside: TLS roots for the
host's outbound HTTPS).
"""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1"}  # Priority: required in debian:bookworm-slim
NOT_A_LIBRARY = {"ca-certificates"}


def runtime_stage(dockerfile: str) -> str:
    stages = re.split(r"(?m)^FROM\s", dockerfile)
    assert len(stages) >= 3, "expected a multi-stage Dockerfile (build + runtime)"
    return stages[-1]


def installed_packages(stage: str) -> set[str]:
    packages: set[str] = set()
    joined = stage.replace("\\\n", " ")
    for command in re.findall(r"apt-get install ([^&\n]+)", joined):
        packages |= {token for token in command.split() if not token.startswith("-")}
    return packages


def package_of(path: str) -> str:
    real = os.path.realpath(path)
    candidates = [real]
    if real.startswith("/usr/lib/"):
        candidates.append(real.replace("/usr/lib/", "/lib/", 1))  # usrmerge: dpkg records /lib
    for candidate in candidates:
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    raise AssertionError(f"no Debian package owns {real}")


def libraries(binary: Path) -> list[str]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    assert "not found" not in out, f"{binary.name} has unresolved libraries:\n{out}"
    return [m.group(1) for m in re.finditer(r"=>\s+(/\S+)", out)]


def test_runtime_stage_matches_what_ldd_reports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stage = runtime_stage(dockerfile)
    listed = installed_packages(stage)
    assert re.search(r"COPY --from=\w+ \S*/lib/?\s+/usr/lib/swift/linux/", stage), \
        "the runtime stage must copy the Swift runtime libraries from the build stage"
    assert "mcp-host" in stage and "plugins" in stage and "config/" in stage

    build = Path(os.environ.get("MCPHOST_BUILD_DIR", ROOT / ".build/debug"))
    binaries = [build / "mcp-host", *sorted(build.glob("libMCPPlugin*.so"))]
    assert len(binaries) >= 3, f"expected mcp-host and the bundled plugins in {build}"

    needed: dict[str, str] = {}
    for binary in binaries:
        for library in libraries(binary):
            if "/lib/swift/linux/" in os.path.realpath(library):
                continue  # Swift runtime: copied from the build stage
            needed.setdefault(package_of(library), library)

    # Libraries only release builds link (the image's build): Package.swift's release-only
    # `.linkedLibrary`s, resolved through the development symlink the build links against.
    package_swift = (ROOT / "Package.swift").read_text()
    for name in re.findall(r'\.linkedLibrary\("([^"]+)",[^)]*configuration: \.release', package_swift):
        dev_link = next(Path("/usr/lib").glob(f"*/lib{name}.so"), None)
        assert dev_link is not None, f"lib{name}.so not found: install its -dev package (scripts/deps build)"
        needed.setdefault(package_of(str(dev_link)), str(dev_link))

    missing = set(needed) - listed - BASE_IMAGE_PACKAGES
    assert not missing, f"libraries loaded but not installed by the runtime stage: " \
                        f"{ {p: needed[p] for p in missing} }"
    unneeded = listed - set(needed) - NOT_A_LIBRARY
    assert not unneeded, f"the runtime stage installs packages nothing loads: {sorted(unneeded)}"


def test_the_check_catches_a_missing_package() -> None:
    stage = runtime_stage((ROOT / "Dockerfile").read_text())
    assert "libstdc++6" in installed_packages(stage)
    broken = stage.replace("libstdc++6", "")
    assert "libstdc++6" not in installed_packages(broken)


def test_bare_mcp_host_serves_with_the_config_from_the_environment(tmp_path) -> None:
    """The image runs `mcp-host` with no arguments: MCPHOST_CONFIG names its configuration."""
    import json
    import socket
    import time
    import urllib.request

    build = Path(os.environ.get("MCPHOST_BUILD_DIR", ROOT / ".build/debug"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plugins = tmp_path / "plugins"
    plugins.mkdir(mode=0o755)
    (plugins / "libMCPPluginEcho.so").write_bytes((build / "libMCPPluginEcho.so").read_bytes())
    config = tmp_path / "mcp-host.yaml"
    config.write_text(f"server:\n  port: {port}\nplugins:\n  directory: {plugins}\n  cache_directory: {tmp_path}/cache\n")
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
    env["MCPHOST_CONFIG"] = str(config)
    host = subprocess.Popen([str(build / "mcp-host")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        health = None
        for _ in range(100):
            try:
                health = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1))
                break
            except OSError:
                time.sleep(0.05)
        assert health is not None, host.stderr.read1().decode() if host.poll() is not None else "no answer"
        assert [p["name"] for p in health["plugins"]] == ["echo"]
    finally:
        host.terminate()
        host.wait(timeout=10)
