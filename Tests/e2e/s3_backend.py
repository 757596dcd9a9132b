"""A real S3 API for the s3delta plugin's tests: moto_server with SigV4 checking switched on, plus
the host configuration that points the plugin at it. Shared by the source/CSV tests and the
Parquet/Delta tests.

API (everything else here is private):

  s3_backend            module-scoped pytest fixture → S3Backend; import it into a test module
                        (`from s3_backend import s3_backend`) to use it. Starts moto_server on a free
                        loopback port, creates the bucket `BUCKET`, an IAM user with an access key and
                        an allow-all S3 policy, then switches signature checking on
                        (POST /moto-api/reset-auth 0, ../shared/BACKENDS.md §3): from then on moto
                        recomputes every SigV4 signature and refuses wrong ones.
  S3Backend             .endpoint, .region, .access_key, .secret_key, .bucket
                        .client(access_key=None, secret_key=None)   boto3 S3 client (path-style)
                        .storage_options()                          for deltalake (write_deltalake / DeltaTable)
                        .host_env()                                 AWS_* variables for the mcp-host process
  plugin_settings(...)  the plugin's per-tenant settings: a local source and/or an S3 source
  start_host(...)       an mcp-host (conftest.Host) serving only the s3delta plugin with those settings;
                        S3 credentials reach it through its environment, never the config file
  Caller                calls `s3delta.<tool>` on a host: .call(tool, args) → MCP result dict

moto must be installed (`moto[server]` in the test venv): when it is missing the tests fail, never skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from conftest import BUILD_DIR, Host, free_port
from plugin_calls import PluginCaller, stop_process

PLUGIN_FILE = "libMCPPluginS3Delta.so"
BUCKET = "data"
REGION = "us-east-1"


@dataclass
class S3Backend:
    endpoint: str
    region: str
    access_key: str
    secret_key: str
    bucket: str
    log_path: Path

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def storage_options(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}

    def host_env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_SESSION_TOKEN": ""}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _moto_binary() -> str:
    candidate = Path(sys.executable).parent / "moto_server"
    found = str(candidate) if candidate.exists() else shutil.which("moto_server")
    if not found:
        pytest.fail("moto_server not installed: pip install 'moto[server]' into the test venv (scripts/test does it)",
                    pytrace=False)
    return found


def _start_moto(work: Path) -> tuple[subprocess.Popen, str]:
    binary = _moto_binary()
    log = work / "moto.log"
    last = ""
    for _attempt in range(3):
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT)
        (work / "moto.pid").write_text(str(proc.pid))
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(endpoint + "/moto-api/", timeout=1.0).status_code == 200:
                    return proc, endpoint
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        last = log.read_text(errors="replace")[-3000:]
        stop_process(proc)
        if "address already in use" not in last.lower():
            break
    pytest.fail(f"moto_server did not start:\n{last}", pytrace=False)


@pytest.fixture(scope="module")
def s3_backend() -> Iterator[S3Backend]:
    import boto3
    from botocore.config import Config
    work = Path(tempfile.mkdtemp(prefix="moto-"))
    proc, endpoint = _start_moto(work)
    try:
        def admin(service: str):
            return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                                aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
        admin("s3").create_bucket(Bucket=BUCKET)
        iam = admin("iam")
        iam.create_user(UserName="mcphost")
        key = iam.create_access_key(UserName="mcphost")["AccessKey"]
        iam.put_user_policy(UserName="mcphost", PolicyName="s3-all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        r = httpx.post(endpoint + "/moto-api/reset-auth", content=b"0", timeout=5)
        assert r.status_code == 200, r.text
        backend = S3Backend(endpoint=endpoint, region=REGION, access_key=key["AccessKeyId"],
                            secret_key=key["SecretAccessKey"], bucket=BUCKET, log_path=work / "moto.log")
        # Checking is on: a wrong secret must now be refused, or the signature tests prove nothing.
        from botocore.exceptions import ClientError
        try:
            backend.client(secret_key="x" * 40).list_objects_v2(Bucket=BUCKET)
            pytest.fail("moto accepted a wrong secret after reset-auth", pytrace=False)
        except ClientError:
            pass
        yield backend
    finally:
        stop_process(proc)
        shutil.rmtree(work, ignore_errors=True)


def plugin_settings(local_root: Path | str | None = None, s3: S3Backend | None = None, s3_prefix: str = "",
                    s3_name: str = "s3", local_name: str = "local", s3_extra: dict[str, Any] | None = None,
                    **settings: Any) -> dict[str, Any]:
    """The s3delta settings of one tenant: `local_root` as source `local_name`, the moto bucket
    (path-style, `s3_prefix`) as source `s3_name`; `settings` adds top-level keys
    (csv_exact_max_bytes, max_preview_rows, timeout_ms)."""
    sources: list[dict[str, Any]] = []
    if local_root is not None:
        sources.append({"name": local_name, "local": {"root": str(local_root)}})
    if s3 is not None:
        spec: dict[str, Any] = {"bucket": s3.bucket, "region": s3.region, "endpoint": s3.endpoint, "addressing": "path"}
        if s3_prefix:
            spec["prefix"] = s3_prefix
        spec.update(s3_extra or {})
        sources.append({"name": s3_name, "s3": spec})
    return {"sources": sources, **settings}


def start_host(workroot: Path, settings: dict[str, Any], env: dict[str, str] | None = None,
               call_timeout_ms: int = 30000, egress: list[str] | None = None, threads: int = 0) -> Host:
    """mcp-host with only the s3delta plugin for tenant `local`. AWS_* variables of the test
    environment are blanked; pass credentials in `env` (e.g. S3Backend.host_env()). `threads`:
    the host's event-loop threads (0 = one per core)."""
    so = BUILD_DIR / PLUGIN_FILE
    if not so.exists():
        pytest.fail(f"missing build product {so} (swift build --product MCPPluginS3Delta)", pytrace=False)
    tenant: dict[str, Any] = {"id": "local", "plugins": {"s3delta": settings}}
    if egress is not None:
        tenant["egress"] = egress
    config = {"server": {"call_timeout_ms": call_timeout_ms, "threads": threads}, "tenants": [tenant]}
    blank = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    return Host(workroot, plugins=(), config=config, env={**blank, **(env or {})}, extra_files={PLUGIN_FILE: so.read_bytes()})


class Caller(PluginCaller):
    """Stateless MCP calls to `s3delta.<tool>` on one host (long timeout: 1 GB scans)."""

    def __init__(self, host: Host):
        super().__init__(host, "s3delta", timeout=120.0)
