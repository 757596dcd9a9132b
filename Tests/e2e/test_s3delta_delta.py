"""The s3delta plugin's Parquet and Delta tools end to end: `get_parquet_metadata`,
`get_delta_table_metadata` and `get_delta_history` through a real mcp-host, against tables written
by the `deltalake` package (partitioned and not, nulls, checkpoints, commits after a checkpoint,
deletes, overwrites, ≥ 12 commits, time travel, cleaned-up logs, a multi-part checkpoint) and
Parquet files written by pyarrow, on a local root and on S3 (moto, SigV4 checking on). Every
figure is compared with what `deltalake.DeltaTable` / `pyarrow.parquet` report for the same files.

Hand-written logs appear only where deltalake cannot produce the case (deletion vectors,
unsupported reader features, a broken log); their expected values follow from the Delta protocol.
"""

from __future__ import annotations

import datetime as dt_
import decimal
import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from mcpwire import text_of
from plugin_calls import err, ok
from s3_backend import Caller, S3Backend, plugin_settings, s3_backend, start_host  # noqa: F401 (fixture)

S3_PREFIX = "lake"
UTC = dt_.timezone.utc


# ---------------------------------------------------------------------------- fixtures ----

def batch(start: int, n: int) -> pa.Table:
    """Rows start..start+n-1 with nulls in `note` and `amount`, several types, two countries."""
    ids = list(range(start, start + n))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "country": pa.array(["de" if i % 3 else "fr" for i in ids]),
        "amount": pa.array([None if i % 7 == 0 else i * 1.25 for i in ids], pa.float64()),
        "flag": pa.array([i % 2 == 0 for i in ids]),
        "day": pa.array([dt_.date(2024, 1, 1) + dt_.timedelta(days=i % 40) for i in ids], pa.date32()),
        "ts": pa.array([dt_.datetime(2024, 5, 1, tzinfo=UTC) + dt_.timedelta(minutes=i) for i in ids], pa.timestamp("us", tz="UTC")),
        "note": pa.array([None if i % 4 == 0 else f"note-{i:04d}" for i in ids]),
    })


def build_events(path: Path) -> None:
    """Partitioned by country; 12 commits, a checkpoint, then appends, a delete and an update."""
    write_deltalake(path, batch(0, 20), partition_by=["country"])
    for k in range(1, 12):
        write_deltalake(path, batch(k * 20, 20), mode="append", partition_by=["country"])
    DeltaTable(path).create_checkpoint()                       # checkpoint at version 11
    write_deltalake(path, batch(240, 20), mode="append", partition_by=["country"])   # 12
    write_deltalake(path, batch(260, 5), mode="append", partition_by=["country"])    # 13
    DeltaTable(path).delete("id < 30")                          # 14: rewrites/removes files
    DeltaTable(path).update(updates={"note": "'patched'"}, predicate="id >= 260")    # 15


def build_plain(path: Path) -> None:
    """Not partitioned, no checkpoint: write, append, overwrite, append, delete."""
    write_deltalake(path, batch(0, 10))                        # 0
    write_deltalake(path, batch(10, 10), mode="append")        # 1
    write_deltalake(path, batch(100, 7), mode="overwrite")     # 2
    write_deltalake(path, batch(200, 3), mode="append")        # 3
    DeltaTable(path).delete("id = 101")                        # 4


def build_cleaned(path: Path) -> None:
    """A checkpoint at 5, then the commits before it removed, as log cleanup does."""
    write_deltalake(path, batch(0, 5))
    for k in range(1, 6):
        write_deltalake(path, batch(k * 5, 5), mode="append")
    DeltaTable(path).create_checkpoint()
    write_deltalake(path, batch(30, 5), mode="append")         # 6
    write_deltalake(path, batch(35, 5), mode="append")         # 7
    for v in range(0, 5):
        (path / "_delta_log" / f"{v:020d}.json").unlink()


def build_multipart(path: Path, source: Path) -> None:
    """The events table with its single-part checkpoint rewritten as a two-part checkpoint
    (`<v>.checkpoint.<i>.<n>.parquet`, the form Spark writes for big tables), in data page v2
    with small pages so that every column spans several pages."""
    shutil.copytree(source, path)
    log = path / "_delta_log"
    single = log / f"{11:020d}.checkpoint.parquet"
    table = pq.read_table(single)
    half = table.num_rows // 2
    for i, part in enumerate((table.slice(0, half), table.slice(half)), start=1):
        pq.write_table(part, log / f"{11:020d}.checkpoint.{i:010d}.0000000002.parquet", data_page_version="2.0",
                       data_page_size=256, compression="snappy")
    single.unlink()
    (log / "_last_checkpoint").write_text(json.dumps({"version": 11, "size": table.num_rows, "parts": 2}))


def build_struct_stats(path: Path) -> None:
    """A checkpoint with typed `add.stats_parsed` and no JSON `add.stats` column (writeStatsAsJson=false)."""
    config = {"delta.checkpoint.writeStatsAsStruct": "true", "delta.checkpoint.writeStatsAsJson": "false"}
    write_deltalake(path, batch(0, 15), partition_by=["country"], configuration=config)
    write_deltalake(path, batch(15, 15), mode="append", partition_by=["country"])
    DeltaTable(path).create_checkpoint()
    write_deltalake(path, batch(30, 4), mode="append", partition_by=["country"])
    assert not any(f.name == "stats" for f in pq.read_schema(path / "_delta_log" / f"{1:020d}.checkpoint.parquet").field("add").type)


def build_rewritten_checkpoint(path: Path, source: Path, **options: Any) -> None:
    """The events table with its checkpoint rewritten by pyarrow with other writer options."""
    shutil.copytree(source, path)
    single = path / "_delta_log" / f"{11:020d}.checkpoint.parquet"
    pq.write_table(pq.read_table(single), single, **options)


SCHEMA_STRING = json.dumps({"type": "struct", "fields": [
    {"name": "id", "type": "long", "nullable": True, "metadata": {}},
    {"name": "tags", "type": {"type": "array", "elementType": "string", "containsNull": True}, "nullable": True, "metadata": {}},
    {"name": "props", "type": {"type": "map", "keyType": "string", "valueType": "long", "valueContainsNull": True},
     "nullable": True, "metadata": {}},
    {"name": "address", "type": {"type": "struct", "fields": [
        {"name": "city", "type": "string", "nullable": True, "metadata": {}},
        {"name": "zip", "type": "integer", "nullable": True, "metadata": {}}]}, "nullable": True, "metadata": {}}]})


def write_log(path: Path, commits: list[list[dict[str, Any]]]) -> None:
    (path / "_delta_log").mkdir(parents=True)
    for v, actions in enumerate(commits):
        (path / "_delta_log" / f"{v:020d}.json").write_text("\n".join(json.dumps(a) for a in actions) + "\n")


def metadata_action(**extra: Any) -> dict[str, Any]:
    return {"metaData": {"id": "tbl-1", "name": "handmade", "description": "hand-written log", "format": {"provider": "parquet", "options": {}},
                         "schemaString": SCHEMA_STRING, "partitionColumns": [], "configuration": {"owner": "tests"},
                         "createdTime": 1700000000000, **extra}}


def add(path: str, rows: int, dv: dict[str, Any] | None = None, stats: bool = True) -> dict[str, Any]:
    a: dict[str, Any] = {"path": path, "partitionValues": {}, "size": 1000, "modificationTime": 1700000000000, "dataChange": True}
    if stats:
        a["stats"] = json.dumps({"numRecords": rows, "minValues": {"id": 1, "address": {"city": "Berlin", "zip": 10115}},
                                 "maxValues": {"id": rows, "address": {"city": "Bonn", "zip": 53111}},
                                 "nullCount": {"id": 0, "address": {"city": 1, "zip": 0}}})
    if dv:
        a["deletionVector"] = dv
    return {"add": a}


def dv(cardinality: int, name: str) -> dict[str, Any]:
    return {"storageType": "u", "pathOrInlineDv": name, "offset": 1, "sizeInBytes": 40, "cardinality": cardinality}


def build_handmade(root: Path) -> None:
    info = {"commitInfo": {"timestamp": 1700000000000, "operation": "CREATE TABLE", "operationParameters": {}}}
    # Deletion vectors: a.parquet (10 rows) gets a vector of 3 rows, then one of 5 (remove + add, same path).
    write_log(root / "dv", [
        [info, {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["deletionVectors"],
                             "writerFeatures": ["deletionVectors"]}}, metadata_action(), add("a.parquet", 10), add("b.parquet", 4)],
        [{"commitInfo": {"timestamp": 1700000001000, "operation": "DELETE", "operationParameters": {"predicate": "id < 4"}}},
         {"remove": {"path": "a.parquet", "deletionTimestamp": 1700000001000, "dataChange": True}},
         add("a.parquet", 10, dv=dv(3, "ab^-aqEH.-t@S}K{vb[*k^"))],
        [{"commitInfo": {"timestamp": 1700000002000, "operation": "DELETE", "operationParameters": {"predicate": "id < 6"}}},
         {"remove": {"path": "a.parquet", "deletionTimestamp": 1700000002000, "dataChange": True,
                     "deletionVector": dv(3, "ab^-aqEH.-t@S}K{vb[*k^")}},
         add("a.parquet", 10, dv=dv(5, "cd^-aqEH.-t@S}K{vb[*k^"))],
    ])
    # Newest metaData wins; a file without stats makes the row count unknown.
    write_log(root / "evolving", [
        [info, {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}, metadata_action(), add("a.parquet", 3)],
        [{"commitInfo": {"timestamp": 1700000001000, "operation": "SET TBLPROPERTIES", "operationParameters": {}}},
         metadata_action(description="second description", configuration={"owner": "someone-else", "delta.appendOnly": "true"})],
        [{"commitInfo": {"timestamp": 1700000002000, "operation": "WRITE", "operationParameters": {"mode": "Append"}}},
         add("b%20c.parquet", 2, stats=False)],
        [{"commitInfo": {"timestamp": 1700000003000, "operation": "DELETE", "operationParameters": {}}},
         {"remove": {"path": "b c.parquet", "deletionTimestamp": 1700000003000, "dataChange": True}}],
    ])
    # Column mapping (name mode): statistics and partition values use physical names.
    mapped_schema = json.dumps({"type": "struct", "fields": [
        {"name": "id", "type": "long", "nullable": True, "metadata": {"delta.columnMapping.id": 1, "delta.columnMapping.physicalName": "col-a1"}},
        {"name": "part", "type": "string", "nullable": True, "metadata": {"delta.columnMapping.id": 2, "delta.columnMapping.physicalName": "col-b2"}},
        {"name": "address", "type": {"type": "struct", "fields": [
            {"name": "city", "type": "string", "nullable": True, "metadata": {"delta.columnMapping.id": 4, "delta.columnMapping.physicalName": "col-d4"}}]},
         "nullable": True, "metadata": {"delta.columnMapping.id": 3, "delta.columnMapping.physicalName": "col-c3"}}]})

    def mapped_add(path: str, part: str | None, lo: int, hi: int, city: str) -> dict[str, Any]:
        stats = {"numRecords": hi - lo + 1, "minValues": {"col-a1": lo, "col-c3": {"col-d4": city}},
                 "maxValues": {"col-a1": hi, "col-c3": {"col-d4": city + "z"}}, "nullCount": {"col-a1": 0, "col-c3": {"col-d4": 1}}}
        return {"add": {"path": path, "partitionValues": {"col-b2": part}, "size": 10, "modificationTime": 1700000000000,
                        "dataChange": True, "stats": json.dumps(stats)}}
    write_log(root / "mapped", [[info, {"protocol": {"minReaderVersion": 2, "minWriterVersion": 5}},
                                 metadata_action(schemaString=mapped_schema, partitionColumns=["part"],
                                                 configuration={"delta.columnMapping.mode": "name", "delta.columnMapping.maxColumnId": "4"}),
                                 mapped_add("p1.parquet", "x", 1, 10, "Aachen"), mapped_add("p2.parquet", None, 50, 60, "Zwickau")]])
    write_log(root / "v2checkpoint", [[info, {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                                                           "readerFeatures": ["v2Checkpoint", "deletionVectors"],
                                                           "writerFeatures": ["v2Checkpoint"]}}, metadata_action()]])
    write_log(root / "future", [[info, {"protocol": {"minReaderVersion": 4, "minWriterVersion": 8}}, metadata_action()]])
    write_log(root / "gap", [[info, {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}, metadata_action()],
                             [info, add("a.parquet", 1)], [info, add("b.parquet", 1)]])
    (root / "gap" / "_delta_log" / f"{1:020d}.json").unlink()
    (root / "not_a_table").mkdir()
    (root / "not_a_table" / "data.parquet").write_bytes(b"nothing")


def build_parquet(root: Path) -> None:
    pqdir = root / "pq"
    pqdir.mkdir()
    n = 10_000
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "small": pa.array([i % 100 - 50 for i in range(n)], pa.int32()),
        "name": pa.array([None if i % 10 == 0 else f"name-{i % 500:03d}" for i in range(n)]),
        "score": pa.array([None if i % 13 == 0 else i / 8 for i in range(n)], pa.float64()),
        "ok": pa.array([i % 3 == 0 for i in range(n)]),
        "day": pa.array([dt_.date(2020, 1, 1) + dt_.timedelta(days=i % 1000) for i in range(n)], pa.date32()),
        "ts": pa.array([dt_.datetime(2024, 1, 1, tzinfo=UTC) + dt_.timedelta(seconds=i) for i in range(n)], pa.timestamp("ms", tz="UTC")),
        "price": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
        "tags": pa.array([[f"t{i % 3}"] * (i % 3) for i in range(n)], pa.list_(pa.string())),
    })
    pq.write_table(table, pqdir / "snappy.parquet", row_group_size=2500, compression="snappy")
    pq.write_table(table.slice(0, 3000), pqdir / "plain.parquet", row_group_size=2000, compression="none", use_dictionary=False)
    pq.write_table(table.slice(0, 1000), pqdir / "zstd.parquet", compression="zstd")
    pq.write_table(pa.table({"only_nulls": pa.array([None] * 10, pa.string())}), pqdir / "nulls.parquet")
    # A footer larger than the 64 KiB tail read first: the reader must fetch it with a second read.
    pq.write_table(pa.table({f"column_{i:04d}": pa.array([i, i + 1]) for i in range(1500)}), pqdir / "wide.parquet")
    assert int.from_bytes((pqdir / "wide.parquet").read_bytes()[-8:-4], "little") > 64 * 1024
    (pqdir / "garbage.parquet").write_bytes(b"this is not parquet at all, just some text" * 10)
    good = (pqdir / "plain.parquet").read_bytes()
    (pqdir / "truncated.parquet").write_bytes(good[: len(good) // 2])
    # Valid magic at both ends, but the footer length points before the start of the file.
    (pqdir / "badfooter.parquet").write_bytes(b"PAR1" + b"\x00" * 32 + (10_000).to_bytes(4, "little") + b"PAR1")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s3delta-lake") / "lake"
    root.mkdir()
    build_events(root / "events")
    build_plain(root / "plain")
    build_cleaned(root / "cleaned")
    build_multipart(root / "multipart", root / "events")
    # Uncompressed, PLAIN only (no dictionary), several row groups.
    build_rewritten_checkpoint(root / "plaincheckpoint", root / "events", compression="none", use_dictionary=False,
                               row_group_size=7)
    build_struct_stats(root / "structstats")
    # `_last_checkpoint` naming a checkpoint that does not exist: the listing decides.
    shutil.copytree(root / "events", root / "stalehint")
    (root / "stalehint" / "_delta_log" / "_last_checkpoint").write_text(json.dumps({"version": 3, "size": 10, "parts": 4}))
    build_rewritten_checkpoint(root / "zstdcheckpoint", root / "events", compression="zstd")
    build_handmade(root)
    build_parquet(root)
    return root


@pytest.fixture(scope="module")
def bucket(s3_backend: S3Backend, lake: Path) -> S3Backend:
    """The lake uploaded under `lake/`, plus a table deltalake writes straight to S3."""
    s3 = s3_backend.client()
    for f in sorted(lake.rglob("*")):
        if f.is_file():
            s3.put_object(Bucket=s3_backend.bucket, Key=f"{S3_PREFIX}/{f.relative_to(lake).as_posix()}", Body=f.read_bytes())
    uri = f"s3://{s3_backend.bucket}/{S3_PREFIX}/direct"
    opts = {**s3_backend.storage_options(), "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
    write_deltalake(uri, batch(0, 30), partition_by=["country"], storage_options=opts)
    write_deltalake(uri, batch(30, 30), mode="append", partition_by=["country"], storage_options=opts)
    DeltaTable(uri, storage_options=opts).delete("id < 10")
    return s3_backend


@pytest.fixture(scope="module")
def caller(workroot: Path, lake: Path, bucket: S3Backend) -> Iterator[Caller]:
    c = Caller(start_host(workroot, plugin_settings(lake, bucket, s3_prefix=S3_PREFIX), env=bucket.host_env()))
    yield c
    c.close()


def delta_type(t: Any) -> str:
    """deltalake's schema JSON type → the plugin's rendering."""
    if isinstance(t, str):
        return t
    if t["type"] == "struct":
        return "struct<" + ", ".join(f"{f['name']}: {delta_type(f['type'])}" for f in t["fields"]) + ">"
    if t["type"] == "array":
        return f"array<{delta_type(t['elementType'])}>"
    return f"map<{delta_type(t['keyType'])}, {delta_type(t['valueType'])}>"


def assert_matches_deltalake(sc: dict[str, Any], table: DeltaTable) -> None:
    assert sc["version"] == table.version()
    schema = json.loads(table.schema().to_json())
    assert [(f["name"], f["type"], f["nullable"]) for f in sc["schema"]] == [
        (f["name"], delta_type(f["type"]), f["nullable"]) for f in schema["fields"]]
    assert sc["partition_columns"] == table.metadata().partition_columns
    assert sc["configuration"] == table.metadata().configuration
    assert sc["num_files"] == len(table.file_uris())
    data = table.to_pyarrow_table()
    assert sc["num_records"] == data.num_rows
    p = table.protocol()
    assert (sc["protocol"]["min_reader_version"], sc["protocol"]["min_writer_version"]) == (p.min_reader_version, p.min_writer_version)
    # Aggregated statistics agree with the data itself.
    cols = {c["name"]: c for c in sc["columns"]}
    if data.num_rows:
        ids = data.column("id").to_pylist()
        assert (cols["id"]["min"], cols["id"]["max"], cols["id"]["null_count"]) == (min(ids), max(ids), 0)
        notes = [v for v in data.column("note").to_pylist() if v is not None]
        assert (cols["note"]["min"], cols["note"]["max"]) == (min(notes), max(notes))
        assert cols["note"]["null_count"] == data.column("note").null_count
        assert cols["amount"]["null_count"] == data.column("amount").null_count
        amounts = [v for v in data.column("amount").to_pylist() if v is not None]
        assert (cols["amount"]["min"], cols["amount"]["max"]) == (min(amounts), max(amounts))
        countries = data.column("country").to_pylist()
        assert (cols["country"]["min"], cols["country"]["max"], cols["country"]["partition"]) == (
            min(countries), max(countries), "country" in sc["partition_columns"])


# ------------------------------------------------------------------------------ manifest ----

def test_tools_are_read_only_with_output_schemas(caller: Caller) -> None:
    tools = {t["name"]: t for t in caller.tools()}
    for name in ("get_parquet_metadata", "get_delta_table_metadata", "get_delta_history"):
        t = tools[f"s3delta.{name}"]
        a = t["annotations"]
        assert (a["readOnlyHint"], a["destructiveHint"], a["idempotentHint"]) == (True, False, True), t
        assert t["outputSchema"]["type"] == "object" and t["inputSchema"]["required"] == ["path"], t


# -------------------------------------------------------------------------- Delta tables ----

@pytest.mark.parametrize("source", ["local", "s3"])
@pytest.mark.parametrize("table", ["events", "plain", "cleaned", "multipart", "plaincheckpoint", "structstats"])
def test_delta_metadata_matches_deltalake(caller: Caller, lake: Path, source: str, table: str) -> None:
    r = caller.call("get_delta_table_metadata", {"source": source, "path": table})
    sc = ok(r)
    assert_matches_deltalake(sc, DeltaTable(lake / table))
    assert sc["latest_version"] == sc["version"]
    assert sc["total_size"] == sum(f.stat().st_size for f in (lake / table).rglob("*.parquet") if "_delta_log" not in f.parts
                                   and f.relative_to(lake / table).as_posix() in {u.split(f"/{table}/", 1)[1] for u in DeltaTable(lake / table).file_uris()})
    assert f"version {sc['version']}" in text_of(r)


def test_events_replays_from_the_checkpoint(caller: Caller, lake: Path) -> None:
    sc = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "events"}))
    assert sc["version"] == 15 and sc["replay"] == {"checkpoint_version": 11, "commits_replayed": 4}
    assert sc["partition_columns"] == ["country"]
    types = {f["name"]: f["type"] for f in sc["schema"]}
    assert types == {"id": "long", "country": "string", "amount": "double", "flag": "boolean", "day": "date",
                     "ts": "timestamp", "note": "string"}
    cols = {c["name"]: c for c in sc["columns"]}
    assert cols["day"]["min"] == "2024-01-01" and cols["day"]["max"] == "2024-02-09"
    data = DeltaTable(lake / "events").to_pyarrow_table()
    assert cols["note"]["null_count"] == data.column("note").null_count
    assert cols["country"]["null_count"] == 0 and cols["country"]["files_with_stats"] == sc["num_files"]


@pytest.mark.parametrize("table", ["multipart", "plaincheckpoint", "stalehint"])
def test_rewritten_checkpoints_are_read(caller: Caller, table: str) -> None:
    sc = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": table}))
    assert sc["replay"] == {"checkpoint_version": 11, "commits_replayed": 4}
    assert sc == {**ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "events"})), "path": table}


def test_typed_checkpoint_statistics_are_used(caller: Caller, lake: Path) -> None:
    sc = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "structstats", "version": 1}))
    assert sc["replay"] == {"checkpoint_version": 1, "commits_replayed": 0}
    assert sc["num_records"] == 30 and sc["files_without_stats"] == 0
    cols = {c["name"]: c for c in sc["columns"]}
    assert (cols["day"]["min"], cols["day"]["max"]) == ("2024-01-01", "2024-01-30")
    assert (cols["ts"]["min"], cols["ts"]["max"]) == ("2024-05-01T00:00:00.000000Z", "2024-05-01T00:29:00.000000Z")
    assert cols["amount"]["null_count"] == DeltaTable(lake / "structstats", version=1).to_pyarrow_table().column("amount").null_count


def test_checkpoint_with_an_unsupported_codec_names_it(caller: Caller) -> None:
    text = err(caller.call("get_delta_table_metadata", {"source": "local", "path": "zstdcheckpoint"}))
    assert "ZSTD" in text and "checkpoint" in text and "SNAPPY" in text, text
    # Time travel to before the checkpoint does not need it.
    ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "zstdcheckpoint", "version": 10}))


@pytest.mark.parametrize("source", ["local", "s3"])
@pytest.mark.parametrize("table,versions", [("events", [0, 5, 10, 11, 12, 13, 14]), ("plain", [0, 1, 2, 3, 4]), ("cleaned", [5, 6, 7])])
def test_time_travel_matches_deltalake(caller: Caller, lake: Path, source: str, table: str, versions: list[int]) -> None:
    for v in versions:
        sc = ok(caller.call("get_delta_table_metadata", {"source": source, "path": table, "version": v}))
        assert_matches_deltalake(sc, DeltaTable(lake / table, version=v))
        assert sc["latest_version"] == DeltaTable(lake / table).version()


def test_time_travel_uses_a_checkpoint_only_at_or_below_the_version(caller: Caller) -> None:
    assert ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "events", "version": 10}))["replay"] == {
        "checkpoint_version": None, "commits_replayed": 11}
    assert ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "events", "version": 13}))["replay"] == {
        "checkpoint_version": 11, "commits_replayed": 2}


def test_overwrite_replaces_every_file(caller: Caller, lake: Path) -> None:
    before = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "plain", "version": 1}))
    after = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "plain", "version": 2}))
    assert before["num_records"] == 20 and after["num_records"] == 7
    assert {c["name"]: c["min"] for c in after["columns"]}["id"] == 100


@pytest.mark.parametrize("source", ["local", "s3"])
def test_version_out_of_range_names_the_available_range(caller: Caller, source: str) -> None:
    text = err(caller.call("get_delta_table_metadata", {"source": source, "path": "events", "version": 99}))
    assert "99" in text and "0…15" in text
    text = err(caller.call("get_delta_table_metadata", {"source": source, "path": "cleaned", "version": 3}))
    assert "version 3" in text and "5…7" in text


def test_table_written_directly_to_s3(caller: Caller, bucket: S3Backend) -> None:
    opts = bucket.storage_options()
    table = DeltaTable(f"s3://{bucket.bucket}/{S3_PREFIX}/direct", storage_options=opts)
    sc = ok(caller.call("get_delta_table_metadata", {"source": "s3", "path": "direct/"}))
    assert_matches_deltalake(sc, table)
    assert sc["num_records"] == 50
    history = ok(caller.call("get_delta_history", {"source": "s3", "path": "direct"}))
    assert [c["operation"] for c in history["commits"]] == [h["operation"] for h in table.history()]


def test_a_source_whose_root_is_the_table(workroot: Path, lake: Path) -> None:
    c = Caller(start_host(workroot, {"sources": [{"name": "events", "local": {"root": str(lake / "events")}}]}))
    try:
        for path in ("", "/"):
            sc = ok(c.call("get_delta_table_metadata", {"path": path}))
            assert_matches_deltalake(sc, DeltaTable(lake / "events"))
        assert ok(c.call("get_delta_history", {"path": "", "limit": 1}))["commits"][0]["version"] == 15
    finally:
        c.close()


def test_deletion_vectors_subtract_their_cardinality(caller: Caller) -> None:
    sc = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "dv"}))
    assert sc["protocol"]["reader_features"] == ["deletionVectors"]
    assert (sc["num_files"], sc["num_records"], sc["deletion_vector_rows"], sc["files_with_deletion_vectors"]) == (2, 9, 5, 1)
    v1 = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "dv", "version": 1}))
    assert (v1["num_files"], v1["num_records"], v1["deletion_vector_rows"]) == (2, 11, 3)
    # Nested struct statistics are aggregated per leaf; arrays and maps have none.
    cols = {c["name"]: c for c in sc["columns"]}
    assert (cols["address.city"]["min"], cols["address.city"]["max"], cols["address.city"]["null_count"]) == ("Berlin", "Bonn", 2)
    assert (cols["address.zip"]["min"], cols["address.zip"]["max"]) == (10115, 53111)
    assert cols["tags"]["type"] == "array<string>" and cols["tags"]["min"] is None
    types = {f["name"]: f["type"] for f in sc["schema"]}
    assert types["props"] == "map<string, long>" and types["address"] == "struct<city: string, zip: integer>"


def test_column_mapping_reads_physical_names(caller: Caller) -> None:
    sc = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "mapped"}))
    assert sc["column_mapping_mode"] == "name"
    assert [(f["name"], f["physical_name"]) for f in sc["schema"]] == [("id", "col-a1"), ("part", "col-b2"), ("address", "col-c3")]
    cols = {c["name"]: c for c in sc["columns"]}
    assert (cols["id"]["min"], cols["id"]["max"], cols["id"]["null_count"]) == (1, 60, 0)
    assert (cols["address.city"]["min"], cols["address.city"]["max"], cols["address.city"]["null_count"]) == ("Aachen", "Zwickauz", 2)
    # Partition values: one file "x", one null (its 11 rows are the partition column's nulls).
    assert (cols["part"]["min"], cols["part"]["max"], cols["part"]["null_count"], cols["part"]["partition"]) == ("x", "x", 11, True)
    assert sc["num_records"] == 21


def test_newest_metadata_wins_and_missing_stats_make_rows_unknown(caller: Caller) -> None:
    r = caller.call("get_delta_table_metadata", {"source": "local", "path": "evolving", "version": 2})
    v2 = ok(r)
    assert "rows: unknown (1 files without statistics)" in text_of(r)
    assert v2["description"] == "second description"
    assert v2["configuration"] == {"owner": "someone-else", "delta.appendOnly": "true"}
    assert (v2["num_files"], v2["num_records"], v2["files_without_stats"]) == (2, None, 1)
    # The remove names the path decoded ("b c.parquet") while the add had it percent-encoded.
    v3 = ok(caller.call("get_delta_table_metadata", {"source": "local", "path": "evolving"}))
    assert (v3["num_files"], v3["num_records"], v3["files_without_stats"]) == (1, 3, 0)
    assert v3["timestamp"] == "2023-11-14T22:13:23.000Z" and v3["created_time"] == "2023-11-14T22:13:20.000Z"


@pytest.mark.parametrize("table,needle", [
    ("v2checkpoint", "v2Checkpoint"),
    ("future", "reader version 4"),
    ("gap", "commit 1 is missing"),
    ("not_a_table", "not a Delta table"),
    ("no/such/table", "not a Delta table"),
])
def test_unreadable_tables_are_clear_errors(caller: Caller, table: str, needle: str) -> None:
    text = err(caller.call("get_delta_table_metadata", {"source": "local", "path": table}))
    assert needle in text, text


def test_v2checkpoint_error_names_only_the_unsupported_feature(caller: Caller) -> None:
    text = err(caller.call("get_delta_table_metadata", {"source": "local", "path": "v2checkpoint"}))
    assert "v2Checkpoint" in text and "deletionVectors" not in text


@pytest.mark.parametrize("path", ["../outside", "/etc", "events/../../x"])
def test_table_paths_cannot_leave_the_root(caller: Caller, path: str) -> None:
    for tool in ("get_delta_table_metadata", "get_delta_history", "get_parquet_metadata"):
        assert "denied" in err(caller.call(tool, {"source": "local", "path": path}))


# ------------------------------------------------------------------------------- history ----

@pytest.mark.parametrize("source", ["local", "s3"])
@pytest.mark.parametrize("table", ["events", "plain"])
def test_history_matches_deltalake(caller: Caller, lake: Path, source: str, table: str) -> None:
    r = caller.call("get_delta_history", {"source": source, "path": table, "limit": 100})
    sc = ok(r)
    expected = DeltaTable(lake / table).history()
    assert [(c["version"], c["operation"], c["timestamp_ms"]) for c in sc["commits"]] == [
        (h["version"], h["operation"], h["timestamp"]) for h in expected]
    assert [c["operation_parameters"] for c in sc["commits"]] == [h.get("operationParameters", {}) for h in expected]
    assert sc["truncated"] is False and sc["earliest_available_version"] == 0
    assert all(c["timestamp"].endswith("Z") for c in sc["commits"])
    assert "DELETE" in text_of(r)


def test_history_limit_and_version(caller: Caller) -> None:
    sc = ok(caller.call("get_delta_history", {"source": "local", "path": "events", "limit": 3}))
    assert [c["version"] for c in sc["commits"]] == [15, 14, 13] and sc["truncated"] is True
    assert [c["operation"] for c in sc["commits"]] == ["UPDATE", "DELETE", "WRITE"]
    sc = ok(caller.call("get_delta_history", {"source": "local", "path": "events", "limit": 2, "version": 11}))
    assert [c["version"] for c in sc["commits"]] == [11, 10]


def test_history_of_a_cleaned_log_reports_what_is_left(caller: Caller) -> None:
    r = caller.call("get_delta_history", {"source": "local", "path": "cleaned", "limit": 100})
    sc = ok(r)
    assert [c["version"] for c in sc["commits"]] == [7, 6, 5]
    assert sc["earliest_available_version"] == 5 and sc["latest_version"] == 7 and sc["truncated"] is False
    assert "available from version 5" in text_of(r)


def test_history_bad_arguments(caller: Caller) -> None:
    assert "limit" in err(caller.call("get_delta_history", {"source": "local", "path": "events", "limit": 0}))
    assert "version" in err(caller.call("get_delta_history", {"source": "local", "path": "events", "version": -1}))
    assert "99" in err(caller.call("get_delta_history", {"source": "local", "path": "events", "version": 99}))
    assert "path" in err(caller.call("get_delta_history", {"source": "local"}))


# ------------------------------------------------------------------------------- Parquet ----

def expected_bound(value: Any) -> Any:
    if isinstance(value, dt_.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, dt_.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


@pytest.mark.parametrize("source", ["local", "s3"])
@pytest.mark.parametrize("name", ["snappy.parquet", "plain.parquet", "zstd.parquet", "nulls.parquet", "wide.parquet"])
def test_parquet_metadata_matches_pyarrow(caller: Caller, lake: Path, source: str, name: str) -> None:
    r = caller.call("get_parquet_metadata", {"source": source, "path": f"pq/{name}"})
    sc = ok(r)
    md = pq.ParquetFile(lake / "pq" / name).metadata
    assert (sc["num_rows"], sc["num_row_groups"], sc["created_by"], sc["size"]) == (
        md.num_rows, md.num_row_groups, md.created_by, (lake / "pq" / name).stat().st_size)
    assert [c["path"] for c in sc["schema"]] == [md.schema.column(i).path for i in range(md.num_columns)]
    assert [c["physical_type"] for c in sc["schema"]] == [md.schema.column(i).physical_type for i in range(md.num_columns)]
    assert [c["max_definition_level"] for c in sc["schema"]] == [md.schema.column(i).max_definition_level for i in range(md.num_columns)]
    assert [c["max_repetition_level"] for c in sc["schema"]] == [md.schema.column(i).max_repetition_level for i in range(md.num_columns)]
    for g, group in enumerate(sc["row_groups"]):
        rg = md.row_group(g)
        assert group["num_rows"] == rg.num_rows and group["total_byte_size"] == rg.total_byte_size
        for c, col in enumerate(group["columns"]):
            meta = rg.column(c)
            assert (col["path"], col["codec"], col["num_values"], col["compressed_size"], col["uncompressed_size"]) == (
                meta.path_in_schema, meta.compression, meta.num_values, meta.total_compressed_size, meta.total_uncompressed_size)
            assert sorted(col["encodings"]) == sorted(meta.encodings)
            st = meta.statistics
            if st is not None and st.has_min_max:
                assert (col["min"], col["max"]) == (expected_bound(st.min), expected_bound(st.max)), col["path"]
                assert col["statistics_source"] == "min_value/max_value"
            if st is not None and st.has_null_count:
                assert col["null_count"] == st.null_count
    # Column totals span all row groups.
    for c, col in enumerate(sc["columns"]):
        chunks = [md.row_group(g).column(c) for g in range(md.num_row_groups)]
        assert col["compressed_size"] == sum(m.total_compressed_size for m in chunks)
        assert col["null_count"] == sum(m.statistics.null_count for m in chunks)
        with_bounds = [m.statistics for m in chunks if m.statistics.has_min_max]
        if with_bounds and col["statistics_complete"]:
            assert col["min"] == expected_bound(min(s.min for s in with_bounds))
            assert col["max"] == expected_bound(max(s.max for s in with_bounds))
    assert f"{md.num_rows} rows" in text_of(r)


def test_parquet_types_and_totals(caller: Caller) -> None:
    sc = ok(caller.call("get_parquet_metadata", {"source": "local", "path": "pq/snappy.parquet"}))
    assert sc["num_rows"] == 10_000 and sc["num_row_groups"] == 4
    schema = {c["path"]: c for c in sc["schema"]}
    assert schema["name"]["logical_type"] == "STRING" and schema["day"]["logical_type"] == "DATE"
    assert schema["ts"]["logical_type"] == "TIMESTAMP(MILLIS,UTC)" and schema["price"]["logical_type"] == "DECIMAL(10,2)"
    assert (schema["tags.list.element"]["max_definition_level"], schema["tags.list.element"]["max_repetition_level"]) == (3, 1)
    cols = {c["path"]: c for c in sc["columns"]}
    assert (cols["id"]["min"], cols["id"]["max"], cols["id"]["null_count"]) == (0, 9999, 0)
    assert (cols["small"]["min"], cols["small"]["max"]) == (-50, 49)
    assert (cols["name"]["min"], cols["name"]["max"], cols["name"]["null_count"]) == ("name-001", "name-499", 1000)
    assert (cols["day"]["min"], cols["day"]["max"]) == ("2020-01-01", "2022-09-26")
    assert (cols["ts"]["min"], cols["ts"]["max"]) == ("2024-01-01T00:00:00.000Z", "2024-01-01T02:46:39.000Z")
    assert (cols["price"]["min"], cols["price"]["max"]) == ("0.00", "99.99")
    assert cols["score"]["null_count"] == len([i for i in range(10_000) if i % 13 == 0])
    assert cols["id"]["codecs"] == ["SNAPPY"] and "PLAIN" in " ".join(cols["id"]["encodings"])
    assert any(kv["key"] == "ARROW:schema" and kv["value_truncated"] for kv in sc["key_value_metadata"])


def test_parquet_row_group_limit(caller: Caller) -> None:
    sc = ok(caller.call("get_parquet_metadata", {"source": "local", "path": "pq/snappy.parquet", "row_group_limit": 1}))
    assert len(sc["row_groups"]) == 1 and sc["row_groups_truncated"] is True and sc["num_row_groups"] == 4
    assert {c["path"]: c for c in sc["columns"]}["id"]["max"] == 9999


def test_all_null_column_has_no_bounds_but_complete_statistics(caller: Caller) -> None:
    col = ok(caller.call("get_parquet_metadata", {"source": "local", "path": "pq/nulls.parquet"}))["columns"][0]
    assert (col["min"], col["max"], col["null_count"], col["statistics_complete"]) == (None, None, 10, True)


@pytest.mark.parametrize("source", ["local", "s3"])
@pytest.mark.parametrize("name,needle", [
    ("garbage.parquet", "does not end with the PAR1 magic"),
    ("truncated.parquet", "does not end with the PAR1 magic"),
    ("badfooter.parquet", "footer length"),
    ("../pq/x.parquet", "denied"),
])
def test_not_parquet_is_a_clear_error(caller: Caller, source: str, name: str, needle: str) -> None:
    text = err(caller.call("get_parquet_metadata", {"source": source, "path": f"pq/{name}"}))
    assert needle in text, text


@pytest.mark.parametrize("source", ["local", "s3"])
def test_missing_files_are_not_found(caller: Caller, source: str) -> None:
    text = err(caller.call("get_parquet_metadata", {"source": source, "path": "pq/missing.parquet"}))
    assert "not found" in text.lower() or "no such" in text.lower(), text


# ---------------------------------------------------------------- corrupt input never crashes ----

def corrupt_variants(data: bytes, region: range, count: int, seed: int) -> list[bytes]:
    """`count` copies of `data` with 1–8 random bytes of `region` overwritten (deterministic)."""
    import random
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.choice(region)] = rng.randrange(256)
        out.append(bytes(b))
    return out


@pytest.fixture(scope="module")
def fuzz_root(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables whose checkpoint, and Parquet files whose footer or pages, were damaged at random."""
    root = tmp_path_factory.mktemp("s3delta-fuzz")
    name = f"{11:020d}.checkpoint.parquet"
    checkpoint = (lake / "events" / "_delta_log" / name).read_bytes()
    footer = int.from_bytes(checkpoint[-8:-4], "little")
    cases = (corrupt_variants(checkpoint, range(len(checkpoint) - 8 - footer, len(checkpoint) - 8), 40, 1)
             + corrupt_variants(checkpoint, range(4, len(checkpoint) - 8 - footer), 40, 2))
    for i, data in enumerate(cases):
        shutil.copytree(lake / "events" / "_delta_log", root / f"cp{i:02d}" / "_delta_log")
        (root / f"cp{i:02d}" / "_delta_log" / name).write_bytes(data)
    plain = (lake / "pq" / "snappy.parquet").read_bytes()
    footer = int.from_bytes(plain[-8:-4], "little")
    for i, data in enumerate(corrupt_variants(plain, range(len(plain) - 8 - footer, len(plain) - 8), 60, 3)):
        (root / f"pq{i:02d}.parquet").write_bytes(data)
    return root


def test_corrupt_checkpoints_and_footers_are_errors_not_crashes(workroot: Path, fuzz_root: Path) -> None:
    c = Caller(start_host(workroot, {"sources": [{"name": "fuzz", "local": {"root": str(fuzz_root)}}]}))
    try:
        outcomes = {"ok": 0, "error": 0}
        for case in sorted(p.name for p in fuzz_root.iterdir()):
            tool = "get_parquet_metadata" if case.endswith(".parquet") else "get_delta_table_metadata"
            r = c.call(tool, {"path": case})
            assert c.host.alive(), f"the host died on {case}:\n{c.host.logs()[-3000:]}"
            if r.get("isError"):
                outcomes["error"] += 1
                assert text_of(r), case
            else:
                outcomes["ok"] += 1
                assert "structuredContent" in r, case
        # Damage in statistics or unused columns may go unnoticed; most cases must be caught.
        assert outcomes["error"] >= 60, outcomes
    finally:
        c.close()


# ---------------------------------------------------------------------- S3 errors, secrets ----

def test_wrong_secret_is_reported_as_rejected_signature(workroot: Path, lake: Path, bucket: S3Backend) -> None:
    env = {**bucket.host_env(), "AWS_SECRET_ACCESS_KEY": "wrong-secret-" + "x" * 27}
    c = Caller(start_host(workroot, plugin_settings(None, bucket, s3_prefix=S3_PREFIX), env=env))
    try:
        for tool, path in (("get_delta_table_metadata", "events"), ("get_parquet_metadata", "pq/snappy.parquet")):
            text = err(c.call(tool, {"path": path}))
            assert "signature" in text.lower(), text
            assert "wrong-secret" not in text
        assert "wrong-secret" not in c.host.logs()
    finally:
        c.close()


def test_unreachable_endpoint_fails_within_the_deadline(workroot: Path, bucket: S3Backend) -> None:
    import socket
    import time
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = S3Backend(endpoint=f"http://127.0.0.1:{s.getsockname()[1]}", region=bucket.region, access_key=bucket.access_key,
                         secret_key=bucket.secret_key, bucket=bucket.bucket, log_path=bucket.log_path)
    c = Caller(start_host(workroot, plugin_settings(None, dead, s3_prefix=S3_PREFIX, timeout_ms=2000), env=bucket.host_env(),
                          call_timeout_ms=10000))
    try:
        for tool, path in (("get_delta_table_metadata", "events"), ("get_delta_history", "events"), ("get_parquet_metadata", "pq/plain.parquet")):
            t = time.monotonic()
            text = err(c.call(tool, {"path": path}))
            assert time.monotonic() - t < 10 and "127.0.0.1" in text, text
    finally:
        c.close()


def test_secrets_never_leak(caller: Caller, bucket: S3Backend) -> None:
    results = [caller.call("get_delta_table_metadata", {"source": "s3", "path": "events"}),
               caller.call("get_delta_history", {"source": "s3", "path": "events"}),
               caller.call("get_parquet_metadata", {"source": "s3", "path": "pq/snappy.parquet"}),
               caller.call("get_delta_table_metadata", {"source": "s3", "path": "gap"})]
    blob = json.dumps(results) + caller.host.logs()
    assert bucket.secret_key not in blob
