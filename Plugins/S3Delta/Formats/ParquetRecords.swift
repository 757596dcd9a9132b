/// Record assembly (Dremel): rebuilds nested rows — structs, LIST and MAP groups — from the
/// definition/repetition levels of the selected leaf columns. Only the selected leaves are read,
/// so a Delta checkpoint's `add.stats_parsed` and friends cost nothing.
public struct ParquetRecordReader {
    let file: ParquetFile
    /// The schema pruned to the selected leaves, built once.
    let plan: [AssemblyNode]
    let leaves: [ParquetSchemaNode]

    /// `select` decides per leaf path whether to read it; groups left without selected leaves vanish.
    public init(_ file: ParquetFile, select: ([String]) -> Bool) {
        self.file = file
        var leaves: [ParquetSchemaNode] = []
        func build(_ node: ParquetSchemaNode) -> AssemblyNode? {
            if node.isLeaf {
                guard select(node.path) else { return nil }
                leaves.append(node)
                return AssemblyNode(node: node, children: [], slots: [leaves.count - 1])
            }
            let children = node.children.compactMap(build)
            guard !children.isEmpty else { return nil }
            return AssemblyNode(node: node, children: children, slots: children.flatMap(\.slots))
        }
        plan = file.schema.root.children.compactMap(build)
        self.leaves = leaves
    }

    /// The rows of one row group, as objects keyed by the top-level field names (nulls included);
    /// none when no column is selected.
    public func rows(rowGroup: Int) async throws -> [FormatValue] {
        let rowCount = Int(file.metadata.rowGroups[rowGroup].numRows)
        guard rowCount >= 0 else { throw ParquetError("row group \(rowGroup) has \(rowCount) rows") }
        let columns = try await file.readColumns(rowGroup: rowGroup, leaves: leaves)
        let cursors = zip(leaves, columns).map { LeafCursor(leaf: $0, data: $1) }
        // Every row has at least one slot in each top-level leaf: a row count beyond that is corrupt.
        guard let slots = cursors.map(\.data.slotCount).min() else { return [] }
        guard rowCount <= slots else {
            throw ParquetError("row group \(rowGroup) claims \(rowCount) rows but its columns hold \(slots) values")
        }
        var assembler = Assembler(cursors: cursors)
        var rows: [FormatValue] = []
        rows.reserveCapacity(rowCount)
        for _ in 0..<rowCount {
            var object: [String: FormatValue] = [:]
            for node in plan { object[node.node.name] = try assembler.value(of: node) }
            rows.append(.object(object))
        }
        return rows
    }
}

/// A schema node with only its selected descendants; `slots` index the assembler's cursors.
final class AssemblyNode: Sendable {
    enum Kind {
        case leaf
        case structure
        /// LIST annotation over one repeated child; `element` names the field to unwrap (3-level form).
        case list(element: String?)
        /// MAP annotation over one repeated key_value group.
        case map(key: String, value: String)
    }
    let node: ParquetSchemaNode
    let children: [AssemblyNode]
    let slots: [Int]
    let kind: Kind

    var lead: Int { slots[0] }

    init(node: ParquetSchemaNode, children: [AssemblyNode], slots: [Int]) {
        self.node = node
        self.children = children
        self.slots = slots
        if node.isLeaf {
            kind = .leaf
        } else if node.element.logicalType == .list, children.count == 1, children[0].node.element.repetition == .repeated {
            let repeated = children[0]
            // Three-level form: repeated group list { element }. Two-level forms repeat the element itself.
            kind = .list(element: !repeated.node.isLeaf && repeated.node.children.count == 1 && repeated.children.count == 1
                ? repeated.children[0].node.name : nil)
        } else if node.element.logicalType == .map, children.count == 1, children[0].node.element.repetition == .repeated,
            !children[0].node.isLeaf
        {
            let kv = children[0].node.children
            kind = .map(key: kv.first?.name ?? "key", value: kv.count > 1 ? kv[1].name : "value")
        } else {
            kind = .structure
        }
    }
}

struct LeafCursor {
    let leaf: ParquetSchemaNode
    let data: ParquetFile.ColumnData
    var slot = 0
    var valueIndex = 0

    init(leaf: ParquetSchemaNode, data: ParquetFile.ColumnData) {
        self.leaf = leaf
        self.data = data
    }

    var exhausted: Bool { slot >= data.slotCount }
    var definition: Int { data.definitionLevels.map { Int($0[slot]) } ?? leaf.definitionLevel }
    /// Repetition level of the current slot (0 past the end, which ends every repeated field).
    var repetition: Int {
        guard slot < data.slotCount, let r = data.repetitionLevels else { return 0 }
        return Int(r[slot])
    }
}

struct Assembler {
    var cursors: [LeafCursor]

    /// Skips one slot in every selected leaf under `node` (a null or empty value there).
    mutating func consume(_ node: AssemblyNode) {
        for s in node.slots { cursors[s].slot += 1 }
    }

    /// The value of `node` at the current position, honouring its repetition.
    mutating func value(of node: AssemblyNode) throws -> FormatValue {
        let lead = node.lead
        guard !cursors[lead].exhausted else {
            throw ParquetError("column '\(cursors[lead].leaf.path.joined(separator: "."))' ends before the row group does")
        }
        let element = node.node.element
        if element.repetition == .repeated {
            if cursors[lead].definition < node.node.definitionLevel {
                consume(node)
                return .array([])
            }
            var items: [FormatValue] = []
            repeat {
                items.append(try single(node))
            } while !cursors[lead].exhausted && cursors[lead].repetition == node.node.repetitionLevel
            return .array(items)
        }
        if element.repetition == .optional && cursors[lead].definition < node.node.definitionLevel {
            consume(node)
            return .null
        }
        return try single(node)
    }

    /// One occurrence of `node` (already known to be defined).
    mutating func single(_ node: AssemblyNode) throws -> FormatValue {
        switch node.kind {
        case .leaf:
            let s = node.lead
            defer { cursors[s].slot += 1 }
            guard cursors[s].definition == node.node.definitionLevel else { return .null }
            let index = cursors[s].valueIndex
            guard index < cursors[s].data.values.count else {
                throw ParquetError("column '\(node.node.path.joined(separator: "."))' has fewer values than defined slots")
            }
            cursors[s].valueIndex += 1
            return ParquetValueRendering.render(
                cursors[s].data.values[index], physical: node.node.element.physicalType!, logical: node.node.element.logicalType)
        case .list(let element):
            let items = try value(of: node.children[0])
            guard let element, case .array(let entries) = items else { return items }
            return .array(entries.map { $0[element] ?? .null })
        case .map(let keyName, let valueName):
            guard case .array(let pairs) = try value(of: node.children[0]) else { return .null }
            var object: [String: FormatValue] = [:]
            for pair in pairs {
                guard let key = pair[keyName] else { continue }
                object[key.stringValue ?? key.rendered] = pair[valueName] ?? .null
            }
            return .object(object)
        case .structure:
            var object: [String: FormatValue] = [:]
            for child in node.children { object[child.node.name] = try value(of: child) }
            return .object(object)
        }
    }
}
