#include "control/base/event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace tern::ctl {

EventLoop::EventLoop() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}

EventLoop::~EventLoop() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

bool EventLoop::add(int fd, uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  handlers_[fd] = std::move(handler);
  return true;
}

bool EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

int EventLoop::poll(std::chrono::milliseconds timeout) {
  std::array<epoll_event, 64> events;
  const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                           static_cast<int>(timeout.count()));
  int ran = 0;
  for (int i = 0; i < n; ++i) {
    // A handler may remove a descriptor (its own or another); look it up each time.
    const auto it = handlers_.find(events[i].data.fd);
    if (it == handlers_.end()) continue;
    Handler handler = it->second;  // a copy: the handler may remove itself
    handler(events[i].events);
    ++ran;
  }
  return ran;
}

}  // namespace tern::ctl
