#pragma once
// The few rtnetlink requests (RFC 3549; the kernel's rtnetlink(7)) that set up the kernel's end of
// the exception path: an interface's flags and MTU, an address, a default route. A socket talks to
// the namespace of the thread that opened it.

#include <cstdint>
#include <string>

#include "conf/net.hpp"

namespace tern::dp {

class Netlink {
 public:
  // Opens a NETLINK_ROUTE socket in the calling thread's namespace.
  bool open(std::string& error);
  ~Netlink();

  // ifi_flags under ifi_change (e.g. IFF_NOARP | IFF_UP), and the MTU when not 0.
  bool set_link(int ifindex, unsigned flags, unsigned change, uint32_t mtu, std::string& error);
  // A host address (/32, /128) on the interface; IPv6 without duplicate address detection.
  bool add_address(int ifindex, const IpAddress& address, std::string& error);
  // The default route of the address's family through the interface, with that address as the
  // preferred source.
  bool add_default_route(int ifindex, const IpAddress& source, std::string& error);

 private:
  bool talk(void* request, std::string& what, std::string& error);
  int fd_ = -1;
  uint32_t seq_ = 0;
};

}  // namespace tern::dp
