/* Fixture: a shared library without the entry symbol (mcp_plugin_entry). The host must refuse it
 * with "missing entry symbol". */
__attribute__((visibility("default"))) int not_a_plugin_entry(void) { return 42; }
