"""The s3delta plugin's sources: local roots and S3 (moto with SigV4 checking on), `list_sources`,
`list_files` (prefix, glob, paging), confinement (traversal, absolute paths, symlinks out of the
root, keys outside the S3 prefix), S3 errors (wrong secret, unknown key id, missing objects,
unreachable endpoint, egress), and secrets never leaking into results or host logs.

moto must be installed (`moto[server]`); when it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import free_port
from mcpwire import stateless_call
from plugin_calls import err, ok
from s3_backend import Caller, S3Backend, plugin_settings, s3_backend, start_host  # noqa: F401 (fixture)

# Files of the source tree (same bytes locally and under the S3 prefix "tree/").
FILES: dict[str, bytes] = {
    "a.csv": b"id,name\n1,alpha\n2,beta\n",
    "notes.txt": b"not a table\n",
    "sub/b.csv": b"x;y\n1;2\n",
    "sub/deep/c.parquet": b"PAR1" + b"\0" * 60 + b"PAR1",
    "sub/deep/d.csv": b"k\n1\n2\n3\n",
    "zeta/\u00e9t\u00e9 2024.csv": b"w\n1\n",  # non-ASCII and a space: percent-encoding in the signed URL
    "zeta/R&D <v1>+'x'.csv": b"q\n7\n",       # XML entities in the listing, reserved characters in the URL
}
MANY = [f"many/file-{i:03d}.dat" for i in range(25)]


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("s3delta-src")
    root = base / "root"
    for key, data in FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    for key in MANY:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(key.encode())
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(b"password\nhunter2\n")
    os.symlink(outside / "secret.csv", root / "escape.csv")       # file symlink out of the root
    os.symlink(outside, root / "outdir")                           # directory symlink out of the root
    os.symlink(root / "a.csv", root / "inner-link.csv")            # symlink that stays inside
    return root


@pytest.fixture(scope="module")
def bucket(s3_backend: S3Backend) -> S3Backend:
    s3 = s3_backend.client()
    for key, data in FILES.items():
        s3.put_object(Bucket=s3_backend.bucket, Key="tree/" + key, Body=data)
    for key in MANY:
        s3.put_object(Bucket=s3_backend.bucket, Key="tree/" + key, Body=key.encode())
    s3.put_object(Bucket=s3_backend.bucket, Key="private/secret.csv", Body=b"password\nhunter2\n")
    s3.put_object(Bucket=s3_backend.bucket, Key="tree-sibling.csv", Body=b"a\n1\n")
    return s3_backend


@pytest.fixture(scope="module")
def caller(workroot: Path, local_root: Path, bucket: S3Backend) -> Iterator[Caller]:
    # list_page_size 7: every S3 listing below crosses ListObjectsV2 continuation tokens.
    settings = plugin_settings(local_root, bucket, s3_prefix="tree", s3_extra={"list_page_size": 7})
    c = Caller(start_host(workroot, settings, env=bucket.host_env()))
    yield c
    c.close()


def all_pages(caller: Caller, args: dict[str, Any]) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        sc = ok(caller.call("list_files", {**args, **({"cursor": cursor} if cursor else {})}))
        assert sc["count"] == len(sc["files"]) <= args.get("limit", 100)
        files += sc["files"]
        cursor = sc["next_cursor"]
        if cursor is None:
            return files
    raise AssertionError("paging did not end")


def expected_keys(include_links: bool) -> list[str]:
    keys = list(FILES) + MANY + (["inner-link.csv"] if include_links else [])
    return sorted(keys, key=lambda k: k.encode())


# ----------------------------------------------------------------------------- manifest ----

def test_tools_are_read_only_with_output_schemas(caller: Caller) -> None:
    tools = {t["name"]: t for t in caller.tools()}
    for name in ("list_sources", "list_files", "get_csv_metadata", "preview_csv"):
        t = tools[f"s3delta.{name}"]
        a = t["annotations"]
        assert a["readOnlyHint"] is True and a["destructiveHint"] is False and a["idempotentHint"] is True, t
        assert t["outputSchema"]["type"] == "object", t


def test_list_sources_describes_without_credentials(caller: Caller, local_root: Path, bucket: S3Backend) -> None:
    r = caller.call("list_sources")
    sc = ok(r)
    by_name = {s["name"]: s for s in sc["sources"]}
    assert by_name["local"] == {"name": "local", "kind": "local", "root": str(local_root)}
    s3 = by_name["s3"]
    assert (s3["kind"], s3["bucket"], s3["prefix"], s3["region"], s3["endpoint"], s3["addressing"]) == (
        "s3", "data", "tree/", "us-east-1", bucket.endpoint, "path")
    blob = repr(r)
    assert bucket.secret_key not in blob and bucket.access_key not in blob


# --------------------------------------------------------------------------- list_files ----

@pytest.mark.parametrize("source", ["local", "s3"])
def test_list_files_everything_sorted_with_sizes(caller: Caller, source: str) -> None:
    files = all_pages(caller, {"source": source, "limit": 1000})
    # The local tree also has a symlink that stays inside the root (listed) and two that leave it (not listed).
    assert [f["path"] for f in files] == expected_keys(include_links=source == "local")
    sizes = {f["path"]: f["size"] for f in files}
    for key, data in FILES.items():
        assert sizes[key] == len(data), key
    assert all(f["last_modified"] and f["last_modified"].endswith("Z") for f in files)
    assert "escape.csv" not in sizes and not any(k.startswith("outdir/") for k in sizes)


@pytest.mark.parametrize("source", ["local", "s3"])
def test_list_files_prefix_and_globs(caller: Caller, source: str) -> None:
    def paths(**args: Any) -> list[str]:
        return [f["path"] for f in all_pages(caller, {"source": source, **args})]

    assert paths(prefix="sub/") == ["sub/b.csv", "sub/deep/c.parquet", "sub/deep/d.csv"]
    assert paths(prefix="sub/deep/d") == ["sub/deep/d.csv"]
    csvs = ["a.csv"] + (["inner-link.csv"] if source == "local" else []) + [
        "sub/b.csv", "sub/deep/d.csv", "zeta/R&D <v1>+'x'.csv", "zeta/\u00e9t\u00e9 2024.csv"]
    assert paths(glob="*.csv") == csvs
    assert paths(glob="**/*.parquet") == ["sub/deep/c.parquet"]
    assert paths(glob="sub/*.csv") == ["sub/b.csv"]
    assert paths(glob="sub/**/*.csv") == ["sub/b.csv", "sub/deep/d.csv"]
    assert paths(glob="many/file-00[0-4].dat") == [f"many/file-00{i}.dat" for i in range(5)]
    assert paths(prefix="nothing-here/") == []


@pytest.mark.parametrize("source", ["local", "s3"])
def test_list_files_paging_is_complete_without_duplicates(caller: Caller, source: str) -> None:
    pages = []
    cursor = None
    while True:
        sc = ok(caller.call("list_files", {"source": source, "prefix": "many/", "limit": 10, **({"cursor": cursor} if cursor else {})}))
        pages.append([f["path"] for f in sc["files"]])
        cursor = sc["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sum(pages, []) == MANY
    # A glob filters across pages too: of the 25 keys, 000, 005, 010, 015 and 020 match.
    matched = [f["path"] for f in all_pages(caller, {"source": source, "prefix": "many/", "glob": "file-0[0-2][05].dat", "limit": 2})]
    assert matched == [f"many/file-{i:03d}.dat" for i in (0, 5, 10, 15, 20)]


def test_last_modified_and_etag_match_the_backends(caller: Caller, local_root: Path, bucket: S3Backend) -> None:
    from datetime import datetime, timezone
    files = {f["path"]: f for f in all_pages(caller, {"source": "s3", "prefix": "sub/"})}
    for key, f in files.items():
        head = bucket.client().head_object(Bucket=bucket.bucket, Key="tree/" + key)
        listed = datetime.fromisoformat(f["last_modified"].replace("Z", "+00:00"))
        assert listed.replace(microsecond=0) == head["LastModified"].astimezone(timezone.utc).replace(microsecond=0), key
        assert f["etag"] == head["ETag"], key
    for f in all_pages(caller, {"source": "local", "prefix": "sub/"}):
        mtime = (local_root / f["path"]).stat().st_mtime
        listed = datetime.fromisoformat(f["last_modified"].replace("Z", "+00:00")).timestamp()
        assert abs(listed - mtime) < 0.002, f


def test_s3_prefix_confines_the_source(caller: Caller) -> None:
    paths = [f["path"] for f in all_pages(caller, {"source": "s3", "limit": 1000})]
    assert not any("secret" in p or "sibling" in p for p in paths)
    # "../private/secret.csv" would name s3://data/private/secret.csv outside the prefix: refused.
    text = err(caller.call("preview_csv", {"source": "s3", "path": "../private/secret.csv"}))
    assert "denied" in text and ".." in text
    assert "hunter2" not in text


def test_unknown_source_and_ambiguous_source(caller: Caller) -> None:
    text = err(caller.call("list_files", {"source": "nope"}))
    assert "nope" in text and "local" in text and "s3" in text
    text = err(caller.call("preview_csv", {"path": "a.csv"}))
    assert "source" in text and "2 sources" in text


# ------------------------------------------------------------------------- confinement ----

@pytest.mark.parametrize("path", ["../outside/secret.csv", "sub/../../outside/secret.csv", "/etc/passwd", "escape.csv",
                                  "outdir/secret.csv"])
@pytest.mark.parametrize("tool", ["preview_csv", "get_csv_metadata"])
def test_local_paths_cannot_leave_the_root(caller: Caller, path: str, tool: str) -> None:
    text = err(caller.call(tool, {"source": "local", "path": path}))
    assert "denied" in text, text
    assert "hunter2" not in text and "password" not in text


def test_list_files_prefix_cannot_leave_the_root(caller: Caller) -> None:
    for prefix in ("../", "/etc/", "sub/../../"):
        assert "denied" in err(caller.call("list_files", {"source": "local", "prefix": prefix}))


def test_symlink_inside_the_root_is_readable(caller: Caller) -> None:
    sc = ok(caller.call("preview_csv", {"source": "local", "path": "inner-link.csv"}))
    assert sc["columns"] == ["id", "name"] and sc["rows"] == [["1", "alpha"], ["2", "beta"]]


# ---------------------------------------------------------------------------- S3 errors ----

@pytest.mark.parametrize("tool", ["preview_csv", "get_csv_metadata"])
def test_missing_object_is_not_found(caller: Caller, tool: str) -> None:
    for source in ("local", "s3"):
        text = err(caller.call(tool, {"source": source, "path": "sub/missing.csv"}))
        assert "not found" in text.lower(), (source, text)
        assert "sub/missing.csv" in text


def test_non_ascii_and_reserved_characters_in_keys(caller: Caller) -> None:
    sc = ok(caller.call("preview_csv", {"source": "s3", "path": "zeta/\u00e9t\u00e9 2024.csv"}))
    assert sc["columns"] == ["w"] and sc["rows"] == [["1"]]
    sc = ok(caller.call("get_csv_metadata", {"source": "s3", "path": "zeta/R&D <v1>+'x'.csv"}))
    assert sc["row_count"] == 1 and sc["columns"][0]["name"] == "q"


def test_missing_bucket_is_named(workroot: Path, bucket: S3Backend) -> None:
    settings = {"sources": [{"name": "s3", "s3": {"bucket": "no-such-bucket", "region": "us-east-1", "endpoint": bucket.endpoint}}]}
    c = Caller(start_host(workroot, settings, env=bucket.host_env()))
    try:
        for tool, args in (("list_files", {}), ("get_csv_metadata", {"path": "a.csv"})):
            text = err(c.call(tool, args))
            assert "bucket 'no-such-bucket' does not exist" in text and "NoSuchBucket" in text, text
    finally:
        c.close()


@pytest.fixture(scope="module")
def wrong_secret(workroot: Path, bucket: S3Backend) -> Iterator[Caller]:
    env = {**bucket.host_env(), "AWS_SECRET_ACCESS_KEY": "W" * 40}
    c = Caller(start_host(workroot, plugin_settings(None, bucket, s3_prefix="tree"), env=env))
    yield c
    c.close()


@pytest.mark.parametrize("tool,args", [("list_files", {}), ("preview_csv", {"path": "a.csv"}),
                                       ("get_csv_metadata", {"path": "a.csv"})])
def test_wrong_secret_says_the_signature_was_rejected(wrong_secret: Caller, tool: str, args: dict[str, Any]) -> None:
    # get_csv_metadata starts with HeadObject, whose 403 has no body: the plugin asks again to learn why.
    text = err(wrong_secret.call(tool, args))
    assert "rejected the request signature" in text and "SignatureDoesNotMatch" in text, text
    assert "W" * 40 not in text


def test_unknown_access_key_id(workroot: Path, bucket: S3Backend) -> None:
    # Per-source credential variables instead of the AWS_* ones.
    settings = plugin_settings(None, bucket, s3_prefix="tree", s3_extra={
        "access_key_id_env": "LAKE_KEY_ID", "secret_access_key_env": "LAKE_SECRET"})
    c = Caller(start_host(workroot, settings, env={"LAKE_KEY_ID": "AKIAUNKNOWN000000000", "LAKE_SECRET": "S" * 40}))
    try:
        text = err(c.call("list_files", {}))
        assert "access key id" in text and "InvalidAccessKeyId" in text, text
        assert "S" * 40 not in text
    finally:
        c.close()


def test_per_source_credential_variables_work(workroot: Path, bucket: S3Backend) -> None:
    settings = plugin_settings(None, bucket, s3_prefix="tree", s3_extra={
        "access_key_id_env": "LAKE_KEY_ID", "secret_access_key_env": "LAKE_SECRET"})
    c = Caller(start_host(workroot, settings, env={"LAKE_KEY_ID": bucket.access_key, "LAKE_SECRET": bucket.secret_key}))
    try:
        assert ok(c.call("list_files", {"prefix": "sub/"}))["count"] == 3
    finally:
        c.close()


def test_missing_credentials_refuse_the_configuration(workroot: Path, bucket: S3Backend) -> None:
    # No AWS_* variables: the tenant's plugin instance is refused, and the reason names the variables.
    c = Caller(start_host(workroot, plugin_settings(None, bucket), env={}))
    try:
        resp, _ = stateless_call(c.client, c.host.mcp_url, "tools/call", {"name": "s3delta.list_files", "arguments": {}})
        assert "AWS_ACCESS_KEY_ID" in resp.text + c.host.logs(), (resp.text, c.host.logs()[-2000:])
        assert not any(t["name"].startswith("s3delta.") for t in c.tools())
    finally:
        c.close()


def test_unreachable_endpoint_fails_within_the_deadline(workroot: Path, local_root: Path, bucket: S3Backend) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = {"sources": [{"name": "s3", "s3": {"bucket": "data", "region": "us-east-1", "endpoint": dead}}], "timeout_ms": 2000}
    c = Caller(start_host(workroot, settings, env=bucket.host_env(), call_timeout_ms=5000))
    try:
        t0 = time.monotonic()
        text = err(c.call("list_files", {}))
        assert time.monotonic() - t0 < 5.0
        assert "did not answer" in text and "127.0.0.1" in text, text
    finally:
        c.close()


def test_egress_allow_list_applies_and_virtual_hosted_urls_carry_the_bucket(workroot: Path, bucket: S3Backend) -> None:
    # Virtual-hosted-style puts the bucket into the host name (data.127.0.0.1), which nothing here
    # resolves; the tenant's egress list (127.0.0.1 only) refuses it and the refusal names the host
    # the plugin built. Path-style requests to the same endpoint pass the same list.
    settings = {"sources": [
        {"name": "virtual", "s3": {"bucket": "data", "region": "us-east-1", "endpoint": bucket.endpoint, "addressing": "virtual"}},
        {"name": "path", "s3": {"bucket": "data", "region": "us-east-1", "endpoint": bucket.endpoint, "prefix": "tree/"}}]}
    c = Caller(start_host(workroot, settings, env=bucket.host_env(), egress=["127.0.0.1"]))
    try:
        text = err(c.call("list_files", {"source": "virtual"}))
        assert "egress denied" in text and "data.127.0.0.1" in text, text
        assert ok(c.call("list_files", {"source": "path", "prefix": "sub/"}))["count"] == 3
    finally:
        c.close()


def test_secrets_never_in_results_or_logs(caller: Caller, wrong_secret: Caller, bucket: S3Backend) -> None:
    # Exercise success and failure paths, then search everything the hosts wrote.
    results = [caller.call("list_files", {"source": "s3"}), caller.call("get_csv_metadata", {"source": "s3", "path": "a.csv"}),
               caller.call("preview_csv", {"source": "s3", "path": "missing.csv"}), wrong_secret.call("list_files", {})]
    blob = repr(results) + caller.host.logs() + wrong_secret.host.logs() + caller.host.stdout() + wrong_secret.host.stdout()
    assert bucket.secret_key not in blob
    assert "W" * 40 not in blob
    assert "Signature=" not in blob and "Credential=" not in blob
