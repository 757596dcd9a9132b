// Grafana plugin: work in progress (see Plugins/Grafana/README.md).
