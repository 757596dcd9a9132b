import S3DeltaFormats
import XCTest

final class CSVInferenceTests: XCTestCase {
    func type(_ values: [String]) -> CSVColumnType {
        var profile = CSVColumnProfile(name: "c")
        for value in values { Array(value.utf8).withUnsafeBufferPointer { profile.add($0) } }
        return profile.type
    }

    func testTypeLadder() {
        XCTAssertEqual(type(["1", "-2", "+3", "007"]), .integer)
        XCTAssertEqual(type(["1", "2.5", "1e3", "-.5", "inf"]), .float)
        XCTAssertEqual(type(["9223372036854775807", "9223372036854775808"]), .float)  // beyond Int64
        XCTAssertEqual(type(["true", "FALSE", "True"]), .boolean)
        XCTAssertEqual(type(["1", "true"]), .string)
        XCTAssertEqual(type(["2024-01-01", "1999-12-31"]), .date)
        XCTAssertEqual(type(["2024-01-01", "2024-01-01T10:00:00Z"]), .timestamp)
        XCTAssertEqual(
            type(["2024-01-01 10:00", "2024-01-01T10:00:00.123456+02:00", "2024-01-01T10:00:00-0500", "2024-01-01T10:00:00+01"]),
            .timestamp)
        XCTAssertEqual(type(["2024-13-01"]), .string)
        XCTAssertEqual(type(["2024-01-01T25:00:00"]), .string)
        XCTAssertEqual(type(["1.2.3"]), .string)
        XCTAssertEqual(type(["", "NA", "null"]), .string)  // nothing but nulls
        XCTAssertEqual(type(["", "NaN", "3"]), .integer)  // nulls do not decide
    }

    func testNullAndEmptyCountsFollowPandas() {
        var profile = CSVColumnProfile(name: "c")
        for value in ["", "NA", "N/A", "NULL", "null", "nan", "NaN", "None", "#N/A", "<NA>", "x", "NONE", "Null"] {
            Array(value.utf8).withUnsafeBufferPointer { profile.add($0) }
        }
        profile.addMissing()
        XCTAssertEqual(profile.emptyCount, 1)
        XCTAssertEqual(profile.nullCount, 11)  // 10 tokens incl. "" + the missing cell; "NONE"/"Null" are not pandas NA
        XCTAssertEqual(profile.nonNullCount, 3)
        XCTAssertEqual(profile.samples, ["x", "NONE", "Null"])
    }

    func testMinMax() {
        var ints = CSVColumnProfile(name: "i")
        for v in ["5", "-3", "12"] { Array(v.utf8).withUnsafeBufferPointer { ints.add($0) } }
        XCTAssertEqual(ints.range?.min, .integer(-3))
        XCTAssertEqual(ints.range?.max, .integer(12))
        var floats = CSVColumnProfile(name: "f")
        for v in ["5", "-3.5", "12"] { Array(v.utf8).withUnsafeBufferPointer { floats.add($0) } }
        XCTAssertEqual(floats.range?.min, .float(-3.5))
        XCTAssertEqual(floats.range?.max, .float(12))
        var dates = CSVColumnProfile(name: "d")
        for v in ["2024-05-01", "2023-01-09", "2024-12-31"] { Array(v.utf8).withUnsafeBufferPointer { dates.add($0) } }
        XCTAssertEqual(dates.range?.min, .text("2023-01-09"))
        XCTAssertEqual(dates.range?.max, .text("2024-12-31"))
    }

    func testDialectDetection() {
        func detect(_ text: String) -> (String, String) {
            let d = CSVDialect.detect(Array(text.utf8), isWholeFile: true)
            return (String(UnicodeScalar(d.delimiter)), String(UnicodeScalar(d.quote)))
        }
        XCTAssertEqual(detect("a,b,c\n1,2,3\n").0, ",")
        XCTAssertEqual(detect("a;b;c\n1,5;2,5;3\n4;5;6\n").0, ";")  // decimal commas do not fool it
        XCTAssertEqual(detect("a\tb\n1, 2\t3\n4\t5\n").0, "\t")
        XCTAssertEqual(detect("a|b\n1|2\n").0, "|")
        XCTAssertEqual(detect("id,name\n1,'Smith, John'\n2,'Doe, Jane'\n").1, "'")
        XCTAssertEqual(detect("id,name\n1,\"Smith, John\"\n2,O'Brien\n").1, "\"")
        XCTAssertEqual(detect("single\ncolumn\n").0, ",")
    }

    func testHeaderDetection() throws {
        let scanner = CSVScanner(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))
        func header(_ text: String) throws -> Bool { try CSVAnalyzer.detectHeader(Array(text.utf8), scanner: scanner, isWholeFile: true) }
        XCTAssertTrue(try header("id,price\n1,2.5\n2,3\n"))
        XCTAssertFalse(try header("1,2.5\n2,3\n"))
        XCTAssertTrue(try header("alpha,beta\n"))  // header only
        XCTAssertFalse(try header("1,2\n"))
        XCTAssertFalse(try header("a,,c\n1,2,3\n"))  // an empty cell is not a column name
        XCTAssertTrue(try header("name,city\nann,rome\n"))  // all text: distinct first-row cells
        XCTAssertFalse(try header("x,x\ny,z\n"))
    }
}
