/// The schema tree rebuilt from the footer's depth-first element list, with each node's
/// definition/repetition levels (Dremel): a node's definition level counts the OPTIONAL and
/// REPEATED ancestors including itself, its repetition level the REPEATED ones.
public final class ParquetSchemaNode: Sendable {
    public let element: ParquetSchemaElement
    public let children: [ParquetSchemaNode]
    /// Path from the root's children down (the root itself has an empty path).
    public let path: [String]
    public let definitionLevel: Int
    public let repetitionLevel: Int
    /// For leaves: index of the column chunk in a row group.
    public let leafIndex: Int?

    init(element: ParquetSchemaElement, children: [ParquetSchemaNode], path: [String], definitionLevel: Int,
         repetitionLevel: Int, leafIndex: Int?) {
        self.element = element
        self.children = children
        self.path = path
        self.definitionLevel = definitionLevel
        self.repetitionLevel = repetitionLevel
        self.leafIndex = leafIndex
    }

    public var name: String { element.name }
    public var isLeaf: Bool { element.physicalType != nil && children.isEmpty }

    /// Leaves below (or this node when it is one), in column order.
    public var leaves: [ParquetSchemaNode] {
        isLeaf ? [self] : children.flatMap(\.leaves)
    }

    public func child(_ name: String) -> ParquetSchemaNode? { children.first { $0.name == name } }
}

public struct ParquetSchema: Sendable {
    public let root: ParquetSchemaNode
    public let leaves: [ParquetSchemaNode]

    public init(_ elements: [ParquetSchemaElement]) throws {
        var index = 0
        var leafCount = 0
        func build(path: [String], def: Int, rep: Int, depth: Int) throws -> ParquetSchemaNode {
            guard depth < 100 else { throw ParquetError("schema nested deeper than 100 levels") }
            guard index < elements.count else { throw ParquetError("schema element list ends inside a group") }
            let element = elements[index]
            index += 1
            let isRoot = depth == 0
            let nodePath = isRoot ? [] : path + [element.name]
            let d = def + (isRoot || element.repetition == .required ? 0 : 1)
            let r = rep + (!isRoot && element.repetition == .repeated ? 1 : 0)
            if element.numChildren == 0 && !isRoot {
                guard element.physicalType != nil else {
                    throw ParquetError("schema element '\(nodePath.joined(separator: "."))' has neither a type nor children")
                }
                defer { leafCount += 1 }
                return ParquetSchemaNode(element: element, children: [], path: nodePath, definitionLevel: d,
                                         repetitionLevel: r, leafIndex: leafCount)
            }
            var children: [ParquetSchemaNode] = []
            for _ in 0..<element.numChildren {
                children.append(try build(path: nodePath, def: d, rep: r, depth: depth + 1))
            }
            return ParquetSchemaNode(element: element, children: children, path: nodePath, definitionLevel: d,
                                     repetitionLevel: r, leafIndex: nil)
        }
        root = try build(path: [], def: 0, rep: 0, depth: 0)
        guard index == elements.count else {
            throw ParquetError("schema lists \(elements.count) elements but the tree uses \(index)")
        }
        leaves = root.leaves
    }
}
