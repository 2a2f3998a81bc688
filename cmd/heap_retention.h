// How much freed memory the process keeps: glibc's defaults suit short programs, not a daemon whose
// occasional big answer (a 10,000-pod list is megabytes) would otherwise stay resident for good.
#pragma once

#include <cstddef>

namespace sma::cmd {

// Call first thing in main(), before any thread starts. Leaves glibc's own settings alone when
// GLIBC_TUNABLES sets any glibc.malloc tunable (the operator's choice wins).
void limit_heap_retention();

// After an answer of `body_bytes`: a big one (a pods/* list over thousands of pods) freed megabytes
// of small blocks (the backend answer's DOM, the samples) that glibc would keep; give them back.
void after_answer(std::size_t body_bytes);

}  // namespace sma::cmd
