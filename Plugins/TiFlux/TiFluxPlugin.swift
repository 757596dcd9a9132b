// TiFlux plugin: work in progress (see Plugins/TiFlux/README.md).
