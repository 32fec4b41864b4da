#include "control/allocations/limits.hpp"

namespace tern::ctl {

IpAddress address_key(const IpAddress& client) {
  const IpAddress canonical = client.canonical();
  if (canonical.is_v4()) return canonical;
  return Prefix::make(canonical, 64)->base;
}

}  // namespace tern::ctl
