// convnet::version(): the version the library was built as (convnet/version.h).
#include "convnet/version.h"

namespace convnet {
const char* version() noexcept { return CONVNET_VERSION; }
}  // namespace convnet
