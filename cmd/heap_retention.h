// How much freed memory the process keeps: glibc's defaults suit short programs, not a daemon whose
// occasional big answer (a 10,000-pod list is megabytes) would otherwise stay resident for good.
#pragma once

namespace sma::cmd {

// Call first thing in main(), before any thread starts. Leaves glibc's own settings alone when
// GLIBC_TUNABLES sets any glibc.malloc tunable (the operator's choice wins).
void limit_heap_retention();

}  // namespace sma::cmd
