// ClickHouse plugin: work in progress (see Plugins/ClickHouse/README.md).
