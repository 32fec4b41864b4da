#include "control/transport/framer.hpp"

#include <algorithm>
#include <cstring>

#include "control/stun/wire.hpp"

namespace tern::ctl {

StreamFramer::StreamFramer(FramerLimits limits)
    : limits_(limits),
      // One STUN message of the largest size allowed, or one relayable ChannelData message with
      // its padding, whichever is longer.
      capacity_(std::max(limits.max_stun_message,
                         stun::kChannelDataHeaderSize + stun::wire::padded(limits.max_channel_data))) {}

std::span<uint8_t> StreamFramer::writable() {
  if (!buffer_) buffer_ = std::make_unique<uint8_t[]>(capacity_);
  if (end_ == capacity_) compact();
  return {buffer_.get() + end_, capacity_ - end_};
}

void StreamFramer::commit(size_t n) {
  end_ += std::min(n, capacity_ - end_);
  // Bytes of a message being skipped are dropped as they come.
  const size_t drop = std::min(skipping_, end_ - begin_);
  skipping_ -= drop;
  begin_ += drop;
  if (begin_ == end_) begin_ = end_ = 0;
}

void StreamFramer::compact() {
  if (begin_ == 0) return;
  std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

StreamFramer::Next StreamFramer::next(Frame& out) {
  if (skipping_ > 0) return Next::need_more;
  const std::span<const uint8_t> pending{buffer_.get() + begin_, end_ - begin_};
  const stun::StreamFrame f = stun::next_stream_frame(pending);
  if (f.status == stun::StreamFrame::Status::invalid) return Next::invalid;
  if (f.size == 0) return Next::need_more;  // not even a length yet
  if (f.kind == Kind::stun && f.size > limits_.max_stun_message) return Next::too_big;
  if (f.kind == Kind::channel_data && f.size > stun::kChannelDataHeaderSize +
                                                   stun::wire::padded(limits_.max_channel_data)) {
    // Discard it, what has arrived now and the rest as it comes.
    const size_t here = std::min(f.size, pending.size());
    begin_ += here;
    skipping_ = f.size - here;
    if (begin_ == end_) begin_ = end_ = 0;
    return Next::oversized;
  }
  if (f.status == stun::StreamFrame::Status::need_more) {
    if (begin_ + f.size > capacity_) compact();
    return Next::need_more;
  }
  out.kind = f.kind;
  out.bytes = pending.first(f.size);
  frame_size_ = f.size;
  return Next::frame;
}

void StreamFramer::consume_frame() {
  begin_ += frame_size_;
  frame_size_ = 0;
  if (begin_ == end_) begin_ = end_ = 0;
}

}  // namespace tern::ctl
