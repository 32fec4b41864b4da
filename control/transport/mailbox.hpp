#pragma once
// Between the stream transport's thread and the control lcore (docs/ARCHITECTURE.md "The stream
// transport"): STUN requests from TCP and TLS clients go to the control plane, which answers them
// as it answers UDP clients' (same tables, same authentication), and the answers come back to be
// written on their connections; so does the news that a connection closed (its allocation goes).
//
// Two queues, each with one producing thread and one consuming thread, guarded by a mutex held
// only to append or to swap the whole queue out; an eventfd per direction wakes the consumer's
// epoll. Bounded: a request that finds the queue full is refused (the client retransmits over the
// stream or gives up), never queued without limit.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "conf/net.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

struct StreamRequest {
  dp::StreamId stream = dp::StreamId::none;
  dp::FiveTuple five_tuple;  // the client's address (from the connection, or its PROXY header), our listener's, TCP
  ClientTransport transport = ClientTransport::tcp;
  std::vector<uint8_t> message;
};

struct StreamReply {
  dp::StreamId stream = dp::StreamId::none;
  std::vector<uint8_t> message;                // empty: the request got no answer, or news only
  dp::AllocId allocation = dp::kNoAllocation;  // this answer created the connection's allocation
  bool allocation_ended = false;               // the connection's allocation is gone (Refresh 0, expiry, kill)
};

class Mailbox {
 public:
  explicit Mailbox(size_t max_requests = 4096);
  ~Mailbox();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  bool ok() const { return to_control_fd_ >= 0 && to_transport_fd_ >= 0; }

  // ---- the transport's side ----
  bool request(StreamRequest request);  // false: full
  void closed(dp::StreamId stream);
  void take_replies(std::vector<StreamReply>& out);  // swaps everything waiting into out
  int replies_fd() const { return to_transport_fd_; }  // readable when replies wait

  // ---- the control lcore's side ----
  void take_requests(std::vector<StreamRequest>& requests, std::vector<dp::StreamId>& closed);
  void reply(std::vector<StreamReply>& replies);  // moves them out of `replies`
  int requests_fd() const { return to_control_fd_; }

 private:
  static void wake(int fd);
  static void drain(int fd);

  const size_t max_requests_;
  std::mutex mutex_;
  std::vector<StreamRequest> requests_;  // guarded
  std::vector<dp::StreamId> closed_;     // guarded
  std::vector<StreamReply> replies_;     // guarded
  int to_control_fd_ = -1;
  int to_transport_fd_ = -1;
};

}  // namespace tern::ctl
