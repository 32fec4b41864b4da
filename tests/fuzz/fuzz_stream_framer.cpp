// libFuzzer target for the stream framer (control/transport/framer.hpp): the bytes a TCP or TLS
// client sends, read in pieces of the sizes the input's first bytes choose, partial and coalesced
// alike. Every frame handed out must be one whole STUN or ChannelData message within the limits,
// frames and skipped bytes never add up to more than arrived, and the buffer never outgrows one
// message. A broken invariant aborts.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "control/stun/stun.hpp"
#include "control/transport/framer.hpp"

namespace {

using namespace tern;

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const ctl::FramerLimits limits{.max_stun_message = 256u + data[0] * 16u, .max_channel_data = 64u + data[1] * 8u};
  const std::span<const uint8_t> stream{data + 2, size - 2};
  ctl::StreamFramer framer(limits);
  size_t fed = 0;
  size_t framed = 0;
  unsigned chunk_seed = data[0] ^ data[1];
  while (fed < stream.size()) {
    const auto room = framer.writable();
    require(!room.empty());
    chunk_seed = chunk_seed * 1103515245u + 12345u;
    const size_t n = std::min({room.size(), stream.size() - fed, size_t{1} + (chunk_seed >> 16) % 97});
    std::memcpy(room.data(), stream.data() + fed, n);
    framer.commit(n);
    fed += n;
    require(framer.buffered() <= framer.capacity());
    for (;;) {
      ctl::StreamFramer::Frame f;
      const auto next = framer.next(f);
      if (next == ctl::StreamFramer::Next::frame) {
        if (f.kind == stun::StreamFrame::Kind::stun) {
          require(f.bytes.size() >= stun::kHeaderSize && f.bytes.size() <= limits.max_stun_message);
          require(stun::demux(f.bytes) == stun::Demux::stun);
        } else {
          const auto cd = stun::parse_channel_data(f.bytes, stun::Transport::stream);
          require(cd.ok() || cd.error == stun::ChannelDataError::reserved_channel);
          require(f.bytes.size() % 4 == 0);
          require(f.bytes.size() <= stun::kChannelDataHeaderSize + ((limits.max_channel_data + 3) & ~size_t{3}));
        }
        framed += f.bytes.size();
        require(framed <= fed);
        framer.consume_frame();
        continue;
      }
      if (next == ctl::StreamFramer::Next::oversized) continue;
      if (next == ctl::StreamFramer::Next::need_more) break;
      return 0;  // too_big or invalid: the connection would close here
    }
  }
  return 0;
}
