"""`get_csv_metadata` and `preview_csv` on local files and on S3 (moto with SigV4 checking on): every
CSV edge case of issue #5, with the numbers compared to Python's csv module and pandas.

moto must be installed (`moto[server]`); when it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import csv
import io
import random
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pandas as pd
import pytest

from mcpwire import notifications, result_of, stateless_call, text_of
from plugin_calls import err, ok
from s3_backend import Caller, S3Backend, plugin_settings, s3_backend, start_host  # noqa: F401 (fixture)

TYPED = (
    "id,name,price,day,active,seen_at,note\n"
    "1,apple,1.5,2024-01-01,true,2024-01-01T10:00:00Z,fresh\n"
    "2,banana,0.25,2024-01-02,false,2024-01-02 11:30:00,\n"
    "3,cherry,,2024-01-03,TRUE,2024-01-03T12:00:00.250+02:00,NA\n"
    "4,,12,2024-02-29,False,2024-01-04T00:00:00Z,NULL\n"
    "-5,elder\u00e9,1e3,2023-12-31,true,2024-01-05T23:59:59Z,ok\n"
)
QUOTED = (
    'id,text,amount\n'
    '1,"comma, inside",10\n'
    '2,"line\nbreak and ""quotes""",20\n'
    '3,"multi\r\nline\nfield, with comma",30\n'
    '4,plain,40\n'
)
# Ragged: line 3 is short, line 5 long, line 6 short (1-based physical lines).
RAGGED = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13\n14,15,16\n"
LARGE_ROWS = 60_000


def _large_csv() -> bytes:
    rnd = random.Random(5)
    out = io.StringIO()
    out.write("id,label,value,day\n")
    for i in range(LARGE_ROWS):
        label = "x" * rnd.randint(1, 30)
        out.write(f"{i},{label},{rnd.random() * 1000:.3f},2024-01-{1 + i % 28:02d}\n")
    return out.getvalue().encode()


FILES: dict[str, bytes] = {
    "typed.csv": TYPED.encode(),
    "quoted.csv": QUOTED.encode(),
    "semicolon.csv": b"id;city;temp\n1;Lisboa;21,5\n2;Porto;18,0\n3;\"Vila; Nova\";19,25\n",
    "tab.tsv": b"id\tname\tscore\n1\tann\t3.5\n2\tbob, jr\t4\n3\tcy\t\n",
    "pipe.csv": b"a|b\n1|x\n2|y\n",
    "bom.csv": b"\xef\xbb\xbfcol1,col2\n1,2\n3,4\n",
    "empty.csv": b"",
    "header_only.csv": b"alpha,beta,gamma\n",
    "ragged.csv": RAGGED.encode(),
    "invalid_utf8.csv": b"id,name\n1,ok\n2,bad\xff\xfebyte\n3,x\n",
    "crlf.csv": b"k,v\r\n1,one\r\n2,two\r\n",
    "blank_lines.csv": b"k,v\n1,a\n\n2,b\n\n\n3,c\n",
    "no_header.csv": b"1,2.5,2024-01-01\n2,3.5,2024-01-02\n3,4.5,2024-01-03\n",
    "single_quote.csv": b"id,name\n1,'Smith, John'\n2,'Doe, Jane'\n",
    "unterminated.csv": b"a,b\n1,\"never closed\n2,3\n",
    "large.csv": _large_csv(),
}
PREFIX = "csvs/"


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s3delta-csv")
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def bucket(s3_backend: S3Backend) -> S3Backend:
    s3 = s3_backend.client()
    for name, data in FILES.items():
        s3.put_object(Bucket=s3_backend.bucket, Key=PREFIX + name, Body=data)
    return s3_backend


@pytest.fixture(scope="module")
def caller(workroot: Path, local_root: Path, bucket: S3Backend) -> Iterator[Caller]:
    settings = plugin_settings(local_root, bucket, s3_prefix=PREFIX, max_preview_rows=50)
    c = Caller(start_host(workroot, settings, env=bucket.host_env()))
    yield c
    c.close()


@pytest.fixture(scope="module")
def estimating(workroot: Path, local_root: Path, bucket: S3Backend) -> Iterator[Caller]:
    """A tenant whose exact limit (256 KiB) is below large.csv's size."""
    settings = plugin_settings(local_root, bucket, s3_prefix=PREFIX, csv_exact_max_bytes=256 * 1024)
    c = Caller(start_host(workroot, settings, env=bucket.host_env()))
    yield c
    c.close()


SOURCES = ["local", "s3"]


def meta(caller: Caller, source: str, name: str, **args: Any) -> dict[str, Any]:
    return ok(caller.call("get_csv_metadata", {"source": source, "path": name, **args}))


def preview(caller: Caller, source: str, name: str, **args: Any) -> dict[str, Any]:
    return ok(caller.call("preview_csv", {"source": source, "path": name, **args}))


def python_rows(name: str, delimiter: str = ",", quotechar: str = '"') -> list[list[str]]:
    text = FILES[name].decode("utf-8-sig")
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar) if r]


def cols(sc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in sc["columns"]}


# ------------------------------------------------------------------------------ metadata ----

@pytest.mark.parametrize("source", SOURCES)
def test_types_nulls_and_row_count_match_pandas(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "typed.csv")
    df = pd.read_csv(io.BytesIO(FILES["typed.csv"]))
    assert sc["row_count"] == len(df) == 5 and sc["row_count_exact"] is True
    assert (sc["delimiter"], sc["quote"], sc["has_header"], sc["bom"]) == (",", '"', True, False)
    c = cols(sc)
    assert list(c) == list(df.columns)
    assert {n: v["type"] for n, v in c.items()} == {
        "id": "integer", "name": "string", "price": "float", "day": "date", "active": "boolean", "seen_at": "timestamp",
        "note": "string"}
    # pandas agrees on the types it has (int64, float64, bool, object)
    assert str(df["id"].dtype) == "int64" and str(df["price"].dtype) == "float64" and str(df["active"].dtype) == "bool"
    for name in df.columns:
        assert c[name]["null_count"] == int(df[name].isna().sum()), name
    assert c["note"]["empty_count"] == 1 and c["note"]["null_count"] == 3  # "", NA, NULL
    assert (c["id"]["min"], c["id"]["max"]) == (-5, 4)
    assert (c["price"]["min"], c["price"]["max"]) == (0.25, 1000.0)
    assert (c["day"]["min"], c["day"]["max"]) == ("2023-12-31", "2024-02-29")
    assert c["name"]["samples"] == ["apple", "banana", "cherry"]


@pytest.mark.parametrize("source", SOURCES)
def test_quoted_fields_with_delimiters_newlines_and_doubled_quotes(caller: Caller, source: str) -> None:
    rows = python_rows("quoted.csv")
    sc = meta(caller, source, "quoted.csv")
    assert sc["row_count"] == len(rows) - 1 == 4
    assert sc["ragged_rows"]["count"] == 0
    assert cols(sc)["amount"]["type"] == "integer"
    p = preview(caller, source, "quoted.csv")
    assert p["columns"] == rows[0]
    assert p["rows"] == rows[1:]
    assert p["rows"][1][1] == 'line\nbreak and "quotes"'


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name,delimiter", [("semicolon.csv", ";"), ("tab.tsv", "\t"), ("pipe.csv", "|")])
def test_delimiter_detection(caller: Caller, source: str, name: str, delimiter: str) -> None:
    rows = python_rows(name, delimiter=delimiter)
    sc = meta(caller, source, name)
    assert sc["delimiter"] == ("\\t" if delimiter == "\t" else delimiter)
    assert [c["name"] for c in sc["columns"]] == rows[0]
    assert sc["row_count"] == len(rows) - 1
    assert preview(caller, source, name)["rows"] == rows[1:]
    df = pd.read_csv(io.BytesIO(FILES[name]), sep=delimiter)
    for c in sc["columns"]:
        assert c["null_count"] == int(df[c["name"]].isna().sum()), c


def test_semicolon_file_with_decimal_commas_keeps_text_type(caller: Caller) -> None:
    c = cols(meta(caller, "local", "semicolon.csv"))
    assert c["temp"]["type"] == "string" and c["id"]["type"] == "integer"
    assert c["city"]["samples"] == ["Lisboa", "Porto", "Vila; Nova"]


@pytest.mark.parametrize("source", SOURCES)
def test_utf8_bom_is_detected_and_stripped(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "bom.csv")
    assert sc["bom"] is True
    assert [c["name"] for c in sc["columns"]] == ["col1", "col2"]
    assert sc["row_count"] == 2
    assert preview(caller, source, "bom.csv")["columns"] == ["col1", "col2"]


@pytest.mark.parametrize("source", SOURCES)
def test_empty_file(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "empty.csv")
    assert (sc["size_bytes"], sc["row_count"], sc["row_count_exact"], sc["columns"]) == (0, 0, True, [])
    p = preview(caller, source, "empty.csv")
    assert (p["columns"], p["rows"], p["truncated"]) == ([], [], False)


@pytest.mark.parametrize("source", SOURCES)
def test_header_only(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "header_only.csv")
    assert sc["has_header"] is True and sc["row_count"] == 0
    assert [c["name"] for c in sc["columns"]] == ["alpha", "beta", "gamma"]
    assert all(c["type"] == "string" and c["null_count"] == 0 for c in sc["columns"])
    assert preview(caller, source, "header_only.csv")["rows"] == []


@pytest.mark.parametrize("source", SOURCES)
def test_ragged_rows_are_counted_with_their_lines(caller: Caller, source: str) -> None:
    rows = python_rows("ragged.csv")
    expected_lines = [i + 1 for i, r in enumerate(rows) if i > 0 and len(r) != len(rows[0])]
    sc = meta(caller, source, "ragged.csv")
    assert sc["row_count"] == len(rows) - 1 == 6
    assert sc["ragged_rows"] == {"count": len(expected_lines), "expected_fields": 3, "first_lines": expected_lines}
    assert expected_lines == [3, 5, 6]
    # Cells missing from short rows count as null (pandas fills them with NaN).
    c = cols(sc)
    assert (c["a"]["null_count"], c["b"]["null_count"], c["c"]["null_count"]) == (0, 1, 2)
    assert preview(caller, source, "ragged.csv")["rows"] == rows[1:]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("tool", ["get_csv_metadata", "preview_csv"])
def test_invalid_utf8_names_the_byte_offset(caller: Caller, source: str, tool: str) -> None:
    data = FILES["invalid_utf8.csv"]
    offset = data.index(b"\xff")
    text = err(caller.call(tool, {"source": source, "path": "invalid_utf8.csv"}))
    assert "not valid UTF-8" in text and f"byte offset {offset}" in text and "line 3" in text and "0xFF" in text, text


@pytest.mark.parametrize("source", SOURCES)
def test_crlf_blank_lines_and_no_header(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "crlf.csv")
    assert sc["row_count"] == 2 and [c["name"] for c in sc["columns"]] == ["k", "v"]
    assert preview(caller, source, "crlf.csv")["rows"] == [["1", "one"], ["2", "two"]]
    sc = meta(caller, source, "blank_lines.csv")
    assert sc["row_count"] == len(pd.read_csv(io.BytesIO(FILES["blank_lines.csv"]))) == 3
    assert sc["blank_lines"] == 3
    sc = meta(caller, source, "no_header.csv")
    assert sc["has_header"] is False and sc["row_count"] == 3
    assert [(c["name"], c["type"]) for c in sc["columns"]] == [("column_1", "integer"), ("column_2", "float"), ("column_3", "date")]
    # Overrides beat detection.
    sc = meta(caller, source, "no_header.csv", header=True, delimiter=";")
    assert sc["has_header"] is True and sc["delimiter"] == ";" and sc["row_count"] == 2 and len(sc["columns"]) == 1


@pytest.mark.parametrize("source", SOURCES)
def test_single_quote_character_is_detected(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "single_quote.csv")
    assert sc["quote"] == "'" and sc["ragged_rows"]["count"] == 0
    assert preview(caller, source, "single_quote.csv")["rows"] == python_rows("single_quote.csv", quotechar="'")[1:]


def test_unterminated_quote_is_reported(caller: Caller) -> None:
    sc = meta(caller, "local", "unterminated.csv", quote='"')
    assert any("never closed" in w and "line 2" in w for w in sc["warnings"]), sc["warnings"]
    assert sc["row_count"] == 1


# ---------------------------------------------------------------------- exact vs estimate ----

@pytest.mark.parametrize("source", SOURCES)
def test_large_file_exact_under_the_limit(caller: Caller, source: str) -> None:
    sc = meta(caller, source, "large.csv")
    assert sc["row_count_exact"] is True and sc["row_count"] == LARGE_ROWS
    assert sc["rows_scanned"] == LARGE_ROWS and sc["bytes_scanned"] == len(FILES["large.csv"])
    c = cols(sc)
    assert [c[n]["type"] for n in ("id", "label", "value", "day")] == ["integer", "string", "float", "date"]
    assert (c["id"]["min"], c["id"]["max"]) == (0, LARGE_ROWS - 1)


@pytest.mark.parametrize("source", SOURCES)
def test_large_file_estimated_over_the_limit(estimating: Caller, source: str) -> None:
    sc = meta(estimating, source, "large.csv")
    assert sc["row_count_exact"] is False
    assert "estimated" in sc["row_count_method"] and any("estimated" in w for w in sc["warnings"])
    assert abs(sc["row_count"] - LARGE_ROWS) / LARGE_ROWS < 0.05, sc["row_count"]
    assert sc["bytes_scanned"] < len(FILES["large.csv"])
    assert 0 < sc["rows_scanned"] < LARGE_ROWS
    assert [c["type"] for c in sc["columns"]] == ["integer", "string", "float", "date"]
    assert "estimate" in text_of(estimating.call("get_csv_metadata", {"source": source, "path": "large.csv"}))


@pytest.mark.parametrize("source", SOURCES)
def test_exact_scan_reports_progress_when_asked(caller: Caller, source: str) -> None:
    r, _ = stateless_call(caller.client, caller.host.mcp_url, "tools/call",
                          {"name": "s3delta.get_csv_metadata", "arguments": {"source": source, "path": "large.csv"},
                           "_meta": {"progressToken": "scan"}})
    progress = [n["params"] for n in notifications(r, "notifications/progress")]
    size = len(FILES["large.csv"])
    assert progress and all(p["progressToken"] == "scan" and p["total"] == size for p in progress), progress
    assert progress[-1]["progress"] == size and "MiB read" in progress[-1]["message"]
    assert result_of(r)["structuredContent"]["row_count"] == LARGE_ROWS


def test_a_long_scan_does_not_block_the_host_event_loop(workroot: Path, local_root: Path) -> None:
    # One event-loop thread: if the plugin parsed on it (the host's default executor), every other
    # request would wait for the scan. Tool calls run on their own executor, so they do not.
    # (Sized for the debug build the suite runs: the scan takes seconds there.)
    (local_root / "bigger.csv").write_bytes(FILES["large.csv"] + FILES["large.csv"][FILES["large.csv"].index(b"\n") + 1:] * 3)
    c = Caller(start_host(workroot, plugin_settings(local_root), threads=1))
    other = httpx.Client(timeout=30)
    del other.headers["accept"]
    try:
        import threading
        done = threading.Event()
        result: dict[str, Any] = {}

        def scan() -> None:
            result.update(c.call("get_csv_metadata", {"path": "bigger.csv"}))
            done.set()

        worker = threading.Thread(target=scan)
        worker.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        r, _ = stateless_call(other, c.host.mcp_url, "tools/call", {"name": "s3delta.list_sources", "arguments": {}})
        latency = time.monotonic() - t0
        still_scanning = not done.is_set()
        worker.join(120)
        assert latency < 1.0, f"list_sources took {latency:.2f} s: it waited behind the scan"
        assert still_scanning, "the scan finished before the probe: make bigger.csv larger for this build"
        assert not result_of(r).get("isError")
        assert ok(result)["row_count"] == 4 * LARGE_ROWS
    finally:
        other.close()
        c.close()


def test_exact_scan_that_cannot_finish_in_time_says_so(workroot: Path, local_root: Path) -> None:
    # A 1 s call deadline: the exact scan stops at its first chunk (it keeps 1 s to answer) with an
    # error naming the fix, instead of the host's generic timeout.
    medium = FILES["large.csv"][:200_000]
    (local_root / "medium.csv").write_bytes(medium[: medium.rindex(b"\n") + 1])
    settings = plugin_settings(local_root, csv_exact_max_bytes=256 * 1024)
    c = Caller(start_host(workroot, settings, call_timeout_ms=1000))
    try:
        text = err(c.call("get_csv_metadata", {"path": "medium.csv"}))
        assert "exact row count stopped at the call's deadline" in text and "csv_exact_max_bytes" in text, text
    finally:
        c.close()


# ------------------------------------------------------------------------------- preview ----

@pytest.mark.parametrize("source", SOURCES)
def test_preview_is_bounded(caller: Caller, source: str) -> None:
    rows = python_rows("large.csv")
    p = preview(caller, source, "large.csv")
    assert p["rows"] == rows[1:11] and p["truncated"] is True and p["row_count"] == 10
    p = preview(caller, source, "large.csv", rows=50)
    assert p["rows"] == rows[1:51]
    assert p["bytes_read"] <= 1 << 20
    text = err(caller.call("preview_csv", {"source": source, "path": "large.csv", "rows": 51}))
    assert "rows" in text and "50" in text
    p = preview(caller, source, "pipe.csv", rows=50)
    assert p["truncated"] is False and len(p["rows"]) == 2


def test_bad_override_arguments_name_the_field(caller: Caller) -> None:
    assert "delimiter" in err(caller.call("get_csv_metadata", {"source": "local", "path": "typed.csv", "delimiter": "ab"}))
    assert "quote" in err(caller.call("preview_csv", {"source": "local", "path": "typed.csv", "quote": ","}))
    assert "path" in err(caller.call("get_csv_metadata", {"source": "local"}))
