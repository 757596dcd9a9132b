// Debian's libsnappy (libsnappy-dev to build, libsnappy1v5 at run time): Parquet pages and Delta
// checkpoints are snappy-compressed, and a codec is not something to write by hand.
#include <snappy-c.h>
