#include "dataplane/exception/netlink.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tern::dp {
namespace {

struct Request {
  nlmsghdr header;
  union {
    ifinfomsg link;
    ifaddrmsg address;
    rtmsg route;
  };
  char attributes[256];
};

void add_attribute(nlmsghdr& n, uint16_t type, const void* data, size_t length) {
  auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&n) + NLMSG_ALIGN(n.nlmsg_len));
  a->rta_type = type;
  a->rta_len = static_cast<uint16_t>(RTA_LENGTH(length));
  if (length > 0) std::memcpy(RTA_DATA(a), data, length);
  n.nlmsg_len = NLMSG_ALIGN(n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

uint8_t family_of(const IpAddress& ip) { return ip.is_v4() ? AF_INET : AF_INET6; }

}  // namespace

bool Netlink::open(std::string& error) {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  sockaddr_nl self{};
  self.nl_family = AF_NETLINK;
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&self), sizeof self) != 0) {
    error = std::string("rtnetlink socket: ") + std::strerror(errno);
    return false;
  }
  return true;
}

Netlink::~Netlink() {
  if (fd_ >= 0) close(fd_);
}

// Sends one request and waits for its acknowledgement.
bool Netlink::talk(void* request, std::string& what, std::string& error) {
  auto* n = static_cast<nlmsghdr*>(request);
  n->nlmsg_seq = ++seq_;
  n->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, n, n->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    error = what + ": " + std::strerror(errno);
    return false;
  }
  alignas(nlmsghdr) char buffer[8192];
  for (;;) {
    const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      error = what + ": " + std::strerror(errno);
      return false;
    }
    int length = static_cast<int>(got);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, length); h = NLMSG_NEXT(h, length)) {
      if (h->nlmsg_seq != seq_ || h->nlmsg_type != NLMSG_ERROR) continue;
      const int code = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
      if (code == 0) return true;
      error = what + ": " + std::strerror(-code);
      return false;
    }
  }
}

bool Netlink::set_link(int ifindex, unsigned flags, unsigned change, uint32_t mtu, std::string& error) {
  Request r{};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  r.header.nlmsg_type = RTM_NEWLINK;
  r.link.ifi_family = AF_UNSPEC;
  r.link.ifi_index = ifindex;
  r.link.ifi_flags = flags;
  r.link.ifi_change = change;
  if (mtu != 0) add_attribute(r.header, IFLA_MTU, &mtu, sizeof mtu);
  std::string what = "setting up interface " + std::to_string(ifindex);
  return talk(&r, what, error);
}

bool Netlink::add_address(int ifindex, const IpAddress& address, std::string& error) {
  Request r{};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  r.header.nlmsg_type = RTM_NEWADDR;
  r.header.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  r.address.ifa_family = family_of(address);
  r.address.ifa_prefixlen = address.is_v4() ? 32 : 128;
  r.address.ifa_scope = RT_SCOPE_UNIVERSE;
  r.address.ifa_index = static_cast<uint32_t>(ifindex);
  const auto bytes = address.bytes();
  add_attribute(r.header, IFA_LOCAL, bytes.data(), bytes.size());
  add_attribute(r.header, IFA_ADDRESS, bytes.data(), bytes.size());
  if (address.is_v6()) {
    const uint32_t flags = IFA_F_NODAD;  // ours alone on a link nobody else is on
    add_attribute(r.header, IFA_FLAGS, &flags, sizeof flags);
  }
  std::string what = "adding " + address.to_string() + " to the exception interface";
  return talk(&r, what, error);
}

bool Netlink::add_default_route(int ifindex, const IpAddress& source, std::string& error) {
  Request r{};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  r.header.nlmsg_type = RTM_NEWROUTE;
  r.header.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  r.route.rtm_family = family_of(source);
  r.route.rtm_table = RT_TABLE_MAIN;
  r.route.rtm_protocol = RTPROT_STATIC;
  r.route.rtm_scope = source.is_v4() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  r.route.rtm_type = RTN_UNICAST;
  const uint32_t oif = static_cast<uint32_t>(ifindex);
  add_attribute(r.header, RTA_OIF, &oif, sizeof oif);
  const auto bytes = source.bytes();
  add_attribute(r.header, RTA_PREFSRC, bytes.data(), bytes.size());
  std::string what = std::string("adding the ") + (source.is_v4() ? "IPv4" : "IPv6") +
                     " default route through the exception interface";
  return talk(&r, what, error);
}

}  // namespace tern::dp
