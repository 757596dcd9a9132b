/* faults — a test plugin whose tools misbehave on purpose, to exercise the host's error paths. */
#ifndef FAULTS_H
#define FAULTS_H

#include "mcp_plugin.h"

const mcp_plugin_descriptor *mcp_plugin_entry(void);

#endif
