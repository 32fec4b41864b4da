#include "dataplane/exception/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace tern::dp {

std::optional<OwnNamespace> OwnNamespace::create(std::string& error) {
  int fd = -1;
  int err = 0;
  // The helper thread's namespace is read through /proc while the thread still lives.
  std::thread helper([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    const std::string path = "/proc/self/task/" + std::to_string(syscall(SYS_gettid)) + "/ns/net";
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
  });
  helper.join();
  if (fd < 0) {
    error = std::string("cannot make a network namespace for the exception path: ") + std::strerror(err) +
            (err == EPERM ? " (ternd needs CAP_SYS_ADMIN for TCP and TLS listeners)" : "");
    return std::nullopt;
  }
  return OwnNamespace(fd);
}

OwnNamespace::OwnNamespace(OwnNamespace&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

OwnNamespace::~OwnNamespace() {
  if (fd_ >= 0) close(fd_);
}

OwnNamespace::Inside::Inside(const OwnNamespace& ns, std::string& error) {
  home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || setns(ns.fd(), CLONE_NEWNET) != 0) {
    error = std::string("cannot enter ternd's network namespace: ") + std::strerror(errno);
    return;
  }
  ok_ = true;
}

OwnNamespace::Inside::~Inside() {
  if (ok_) setns(home_, CLONE_NEWNET);
  if (home_ >= 0) close(home_);
}

bool write_sysctl(const std::string& path, const std::string& value, std::string& error) {
  const std::string file = "/proc/sys/" + path;
  const int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    error = "cannot set " + path + " to " + value + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

}  // namespace tern::dp
