#pragma once
// fuzz_worker's input: one burst of frames for the worker, encoded so that libFuzzer's mutations
// (bytes flipped, inserted, cut) keep most of it decodable.
//
//   byte 0          what the burst runs with: bits 0-2 the trace (kTraceClient4: `ternctl trace
//                   10.90.0.10` runs, kTraceClient6: 2001:db8::10, anything else: none)
//   then records    [tag][length: 2 bytes, big-endian][frame: length bytes, cut short by the input's end]
//     tag bits 0-1  where the frame arrives (Source)
//     tag bits 2-3  the RX IPv4 header checksum flag a NIC would set (RxChecksum)
//     tag bits 4-5  the RX L4 checksum flag
//     tag bit 6     from_stream only: a stale connection (the slot's StreamId + 1)
//     tag bit 7     a chained mbuf: the frame in two segments (split in the middle)
//
// At most kMaxFrames records per source are taken (a NIC's burst); the rest is ignored.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tern::fuzz {

enum class Source : uint8_t {
  port0 = 0,         // RX on port 0 (clients' side)
  port1 = 1,         // RX on port 1 (peers' side)
  stream4 = 2,       // the stream transport's message from kStream4's connection (from_stream ring)
  stream6 = 3,       // from kStream6's connection
};
inline constexpr unsigned kSources = 4;

enum class RxChecksum : uint8_t { unknown = 0, bad = 1, good = 2, none = 3 };

inline constexpr uint8_t kTraceClient4 = 6;
inline constexpr uint8_t kTraceClient6 = 7;
inline constexpr uint8_t kTraceMask = 7;
inline constexpr uint8_t kStaleStream = 0x40;
inline constexpr uint8_t kSegmented = 0x80;
inline constexpr unsigned kMaxFrames = 32;      // per source: a burst (dp::kBurst)
inline constexpr size_t kMaxFrameLen = 2048;    // an mbuf's data room (RTE_MBUF_DEFAULT_DATAROOM)

struct Frame {
  Source source = Source::port0;
  RxChecksum ip_checksum = RxChecksum::unknown;
  RxChecksum l4_checksum = RxChecksum::unknown;
  bool stale = false;
  bool segmented = false;
  std::span<const uint8_t> bytes;
};

struct Burst {
  uint8_t trace = 0;
  std::vector<Frame> frames;  // in input order
};

inline uint8_t tag_of(const Frame& f) {
  return static_cast<uint8_t>(static_cast<uint8_t>(f.source) | static_cast<uint8_t>(f.ip_checksum) << 2 |
                              static_cast<uint8_t>(f.l4_checksum) << 4 | (f.stale ? kStaleStream : 0) |
                              (f.segmented ? kSegmented : 0));
}

// Never fails: whatever does not decode is left out.
inline Burst decode(std::span<const uint8_t> in) {
  Burst b;
  if (in.empty()) return b;
  b.trace = in[0] & kTraceMask;
  unsigned taken[kSources] = {};
  size_t at = 1;
  while (at + 3 <= in.size()) {
    const uint8_t tag = in[at];
    size_t len = size_t{in[at + 1]} << 8 | in[at + 2];
    at += 3;
    len = std::min({len, in.size() - at, kMaxFrameLen});
    Frame f;
    f.source = static_cast<Source>(tag & 3);
    f.ip_checksum = static_cast<RxChecksum>((tag >> 2) & 3);
    f.l4_checksum = static_cast<RxChecksum>((tag >> 4) & 3);
    f.stale = (tag & kStaleStream) != 0;
    f.segmented = (tag & kSegmented) != 0;
    f.bytes = in.subspan(at, len);
    at += len;
    unsigned& n = taken[static_cast<unsigned>(f.source)];
    if (n == kMaxFrames) continue;
    ++n;
    b.frames.push_back(f);
  }
  return b;
}

inline std::vector<uint8_t> encode(const Burst& b) {
  std::vector<uint8_t> out{b.trace};
  for (const Frame& f : b.frames) {
    out.push_back(tag_of(f));
    out.push_back(static_cast<uint8_t>(f.bytes.size() >> 8));
    out.push_back(static_cast<uint8_t>(f.bytes.size()));
    out.insert(out.end(), f.bytes.begin(), f.bytes.end());
  }
  return out;
}

}  // namespace tern::fuzz
