#pragma once
// The network namespace ternd owns for the kernel's end of the exception path: anonymous (made
// with unshare, named by nothing but ternd's file descriptor), so it disappears with the process,
// kill -9 included, and the host's own interfaces and routes are never touched.
//
// The process stays in the namespace it started in. A thread enters this one only while it makes
// the TAP device and configures its kernel end (Inside), and the stream transport's thread for
// good, to own the listeners' sockets.

#include <optional>
#include <string>

namespace tern::dp {

class OwnNamespace {
 public:
  // Made from a helper thread that unshares and exits, so no thread of ours ever leaves its own
  // namespace for it by accident. nullopt with a message on failure (not root, no CAP_SYS_ADMIN).
  static std::optional<OwnNamespace> create(std::string& error);
  OwnNamespace(OwnNamespace&& other) noexcept;
  OwnNamespace& operator=(OwnNamespace&&) = delete;
  OwnNamespace(const OwnNamespace&) = delete;
  ~OwnNamespace();

  int fd() const { return fd_; }

  // The calling thread inside the namespace for the object's life, then back where it was.
  class Inside {
   public:
    Inside(const OwnNamespace& ns, std::string& error);
    ~Inside();
    Inside(const Inside&) = delete;
    Inside& operator=(const Inside&) = delete;
    bool ok() const { return ok_; }

   private:
    int home_ = -1;
    bool ok_ = false;
  };

 private:
  explicit OwnNamespace(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// /proc/sys/<path> of the calling thread's network namespace.
bool write_sysctl(const std::string& path, const std::string& value, std::string& error);

}  // namespace tern::dp
