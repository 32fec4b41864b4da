#pragma once
// The control lcore's reactor: epoll over the file descriptors the control plane serves (signals,
// and the operator's sockets), woken at least every `tick` so the punt rings are polled even when
// no descriptor is ready. The control lcore never spins: between wakeups it sleeps in epoll_wait.

#include <chrono>
#include <functional>
#include <unordered_map>

namespace tern::ctl {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool ok() const { return epoll_fd_ >= 0; }
  // Watches fd for `events` (EPOLLIN, EPOLLOUT, ...); the handler runs on the loop's thread.
  bool add(int fd, uint32_t events, Handler handler);
  bool modify(int fd, uint32_t events);
  void remove(int fd);

  // Waits up to `timeout` for descriptors and runs their handlers; returns how many ran.
  int poll(std::chrono::milliseconds timeout);

 private:
  int epoll_fd_ = -1;
  std::unordered_map<int, Handler> handlers_;
};

}  // namespace tern::ctl
