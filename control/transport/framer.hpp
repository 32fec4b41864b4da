#pragma once
// One stream client's input cut into TURN messages (RFC 8656 §12.5, RFC 8489 §6.2.2): STUN
// messages and ChannelData back to back on a TCP or TLS stream, arriving in pieces of any size.
// Bytes are read into writable(), committed, and taken out a message at a time with next().
//
// Bounded: the buffer holds at most one message of the largest size allowed, and what does not fit
// is never buffered. A STUN message longer than max_stun_message ends the stream (too_big). A
// ChannelData message whose data would not fit one UDP datagram (max_channel_data) is skipped as
// its bytes arrive, without being kept, and reported once (oversized); the stream goes on after it.
//
//   StreamFramer framer({.max_stun_message = 4096, .max_channel_data = 1472});
//   ssize_t n = read(fd, framer.writable().data(), framer.writable().size());
//   framer.commit(n);
//   StreamFramer::Frame f;
//   while (framer.next(f) == StreamFramer::Next::frame) handle(f.kind, f.bytes);
//   framer.consume_frame();   ... after each handled frame

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "control/stun/channel_data.hpp"

namespace tern::ctl {

struct FramerLimits {
  size_t max_stun_message = 4096;  // header included
  size_t max_channel_data = 1472;  // application data bytes: one UDP datagram on the egress port
};

class StreamFramer {
 public:
  using Kind = stun::StreamFrame::Kind;
  enum class Next : uint8_t {
    frame,      // out holds the next message; consume_frame() once handled
    need_more,  // read more first
    oversized,  // a ChannelData message too long to relay was found; it is being skipped
    too_big,    // a STUN message over the limit: close the stream
    invalid,    // neither STUN nor ChannelData: the stream cannot be resynchronised, close it
  };
  struct Frame {
    Kind kind = Kind::stun;
    std::span<const uint8_t> bytes;  // the whole message, padding included; valid until consume
  };

  explicit StreamFramer(FramerLimits limits);

  // Room to read into (never empty while the stream is usable), and how much was read into it.
  std::span<uint8_t> writable();
  void commit(size_t n);

  Next next(Frame& out);
  // Drops the frame next() returned.
  void consume_frame();

  size_t buffered() const { return end_ - begin_; }
  size_t capacity() const { return capacity_; }

 private:
  void compact();

  FramerLimits limits_;
  size_t capacity_;
  std::unique_ptr<uint8_t[]> buffer_;  // allocated with the first read
  size_t begin_ = 0;                   // unconsumed bytes: [begin_, end_)
  size_t end_ = 0;
  size_t frame_size_ = 0;              // of the frame next() returned
  size_t skipping_ = 0;                // bytes of an oversized ChannelData still to discard
};

}  // namespace tern::ctl
