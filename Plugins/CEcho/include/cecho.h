/* cecho — the MCPHost echo plugin in plain C (no runtime needed from the host). */
#ifndef CECHO_H
#define CECHO_H

#include "mcp_plugin.h"

/* The plugin's only exported symbol (MCP_PLUGIN_ENTRY_SYMBOL). */
const mcp_plugin_descriptor *mcp_plugin_entry(void);

#endif
