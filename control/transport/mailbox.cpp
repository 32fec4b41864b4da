#include "control/transport/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

namespace tern::ctl {

Mailbox::Mailbox(size_t max_requests)
    : max_requests_(max_requests),
      to_control_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      to_transport_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Mailbox::~Mailbox() {
  if (to_control_fd_ >= 0) close(to_control_fd_);
  if (to_transport_fd_ >= 0) close(to_transport_fd_);
}

void Mailbox::wake(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(fd, &one, sizeof one);
}

void Mailbox::drain(int fd) {
  uint64_t count;
  [[maybe_unused]] const ssize_t n = read(fd, &count, sizeof count);
}

bool Mailbox::request(StreamRequest request) {
  {
    std::lock_guard lock(mutex_);
    if (requests_.size() >= max_requests_) return false;
    requests_.push_back(std::move(request));
  }
  wake(to_control_fd_);
  return true;
}

void Mailbox::closed(dp::StreamId stream) {
  {
    std::lock_guard lock(mutex_);
    closed_.push_back(stream);
  }
  wake(to_control_fd_);
}

void Mailbox::take_replies(std::vector<StreamReply>& out) {
  drain(to_transport_fd_);
  out.clear();
  std::lock_guard lock(mutex_);
  out.swap(replies_);
}

void Mailbox::take_requests(std::vector<StreamRequest>& requests, std::vector<dp::StreamId>& closed) {
  drain(to_control_fd_);
  requests.clear();
  closed.clear();
  std::lock_guard lock(mutex_);
  requests.swap(requests_);
  closed.swap(closed_);
}

void Mailbox::reply(std::vector<StreamReply>& replies) {
  if (replies.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (StreamReply& r : replies) replies_.push_back(std::move(r));
  }
  replies.clear();
  wake(to_transport_fd_);
}

}  // namespace tern::ctl
