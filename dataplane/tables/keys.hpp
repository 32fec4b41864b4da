#pragma once
// The keys of the tables' overflow hashes, shared by the readers (tables.cpp) and the writer
// (rcu_writer.cpp). Every byte of a key is hashed: padding is explicit and always zero.

#include <cstdint>

#include "dataplane/tables/slot.hpp"
#include "dataplane/wire/ip6.hpp"

namespace tern::dp {

struct PermissionKey {
  AllocId id;
  uint32_t peer_ip;
};
struct ChannelNumberKey {
  AllocId id;
  uint16_t channel;
  uint16_t zero;
};
struct ChannelPeerKey {
  AllocId id;
  uint32_t peer_ip;
  uint16_t peer_port;
  uint16_t zero;
};
struct PermissionKey6 {
  AllocId id;
  uint32_t zero;
  Ip6 peer_ip;
};
struct ChannelPeerKey6 {
  AllocId id;
  uint16_t peer_port;
  uint16_t zero;
  Ip6 peer_ip;
};
static_assert(sizeof(PermissionKey6) == 24 && sizeof(ChannelPeerKey6) == 24);

}  // namespace tern::dp
