#include "cmd/heap_retention.h"

#include <malloc.h>

#include <cstdlib>
#include <string_view>

namespace sma::cmd {

void limit_heap_retention() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) return;
  // Each thread would otherwise get an arena of its own (up to 8 per core), each keeping its freed
  // memory; two are enough for a handful of workers.
  mallopt(M_ARENA_MAX, 2);
  // A fixed threshold: glibc raises the default one after every large free, so that later large
  // buffers come from the heap and stay there. Mapped buffers go back to the system when freed.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

}  // namespace sma::cmd
