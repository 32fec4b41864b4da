#pragma once
// The data plane's clock: TableTime (whole seconds, starting at 1) from the TSC, the same on every
// core (the TSC is invariant and synchronised across cores on every CPU DPDK runs workers on).
// Workers read the TSC once per burst and derive both the table time (expiry checks) and the
// rate limiters' time from that one reading; tests pass both in explicitly.

#include <rte_cycles.h>

#include <cstdint>

#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

// One reading of the clock, taken once per burst.
struct Instant {
  TableTime table = 1;  // seconds since start, from 1: expiry checks
  uint64_t tsc = 0;     // raw TSC ticks: rate limiters
};

class Clock {
 public:
  Clock() : Clock(rte_get_tsc_hz(), rte_rdtsc()) {}
  Clock(uint64_t tsc_hz, uint64_t start_tsc) : hz_(tsc_hz), start_(start_tsc) {}

  uint64_t hz() const { return hz_; }
  TableTime table_time(uint64_t tsc) const { return static_cast<TableTime>(1 + (tsc - start_) / hz_); }
  Instant now() const {
    const uint64_t tsc = rte_rdtsc();
    return {table_time(tsc), tsc};
  }
  // Nanoseconds from the start to a TSC reading.
  uint64_t ns_since_start(uint64_t tsc) const {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(tsc - start_) * 1'000'000'000u / hz_);
  }
  // The first instant of table second t (tests drive time with it).
  Instant at(TableTime t) const { return {t, start_ + uint64_t{t - 1} * hz_}; }

 private:
  uint64_t hz_;
  uint64_t start_;
};

}  // namespace tern::dp
