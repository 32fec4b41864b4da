#pragma once
// The data plane as the stream transport sees it: TURN over TCP and TLS without a TCP stack of
// tern's own (docs/ARCHITECTURE.md "The exception path").
//
// The workers hand every segment for a TCP or TLS listener (and ICMP errors about those
// connections) to an exception port: a TAP device whose kernel end lives in a network namespace
// ternd owns, holding the listener addresses. The stream transport's thread serves the kernel's
// sockets there (accept, TLS, framing) and, from that same thread, keeps the exception port
// pumping: frames the workers queued go into the TAP, frames the kernel sends leave through the
// data plane's ports. Once a stream client has an allocation its data takes the workers' fast
// paths: relay() hands a ChannelData or Send indication to the worker that owns the allocation's
// traffic, and receive() returns peers' data the workers framed for stream clients.
//
// One thread calls everything here, after attach(). No DPDK type appears: the transport's tests
// fake it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/contract/counter_list.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

// A peer's data framed for a stream client by a worker: a ChannelData message padded to four
// bytes (RFC 8656 §12.5) or a Data indication, to be written on the connection as it is.
struct StreamDelivery {
  StreamId stream = StreamId::none;
  AllocId allocation = kNoAllocation;
  std::span<const uint8_t> bytes;  // valid until release(handle)
  uint64_t handle = 0;
};

enum class RelayResult : uint8_t {
  queued,     // on its way to the allocation's worker
  too_big,    // longer than one datagram on the data plane: dropped
  no_buffer,  // the packet pool was empty
  ring_full,  // the worker's ring was full
};

// X(name, help): the exception port's and the stream rings' counters.
#define TERN_EXCEPTION_COUNTERS(X)                                                                  \
  X(kernel_in, "frames for the kernel's TCP written into the exception port")                      \
  X(kernel_in_dropped, "frames for the kernel's TCP the exception port did not take")              \
  X(kernel_out, "frames from the kernel's TCP sent out of a data-plane port")                      \
  X(kernel_out_waiting, "frames from the kernel handed to the control lcore to wait for a next hop") \
  X(kernel_out_filtered, "frames from the kernel not TCP from a listener (ARP, NDP, MLD, RS, other): dropped") \
  X(kernel_out_no_route, "frames from the kernel without a route out of a data-plane port")        \
  X(kernel_out_tx_full, "frames from the kernel a port's TX queue did not take")                   \
  X(stream_delivered, "peer data handed to the stream transport for TCP and TLS clients")          \
  X(stream_relayed, "TCP and TLS clients' ChannelData and Send indications handed to a worker")   \
  X(stream_ring_full, "TCP and TLS clients' data lost because a worker's ring was full")           \
  X(stream_too_big, "TCP and TLS clients' data too long for one datagram: dropped")                \
  X(mempool_empty, "packet buffers the pool could not supply")

TERN_COUNTER_LIST(TERN_EXCEPTION_COUNTERS, ExceptionCounterId, kExceptionCounterCount,
                  kExceptionCounterNames, kExceptionCounterHelp);
using ExceptionCounterValues = std::array<uint64_t, kExceptionCounterCount>;

class StreamIo {
 public:
  virtual ~StreamIo() = default;

  // The namespace the listeners' sockets must be made in (a file descriptor for setns()).
  virtual int netns() const = 0;
  // On the transport's thread, before anything else: it becomes a reader of the data plane's
  // tables and the only user of the exception port. false with a message when it cannot.
  virtual bool attach(std::string& error) = 0;
  virtual void detach() = 0;

  // Moves frames both ways between the data plane's ports and the kernel; never blocks. Returns
  // how many moved (0: nothing to do).
  virtual size_t pump() = 0;
  // Readable when the kernel has frames for the data plane (for epoll; -1: poll pump() instead).
  virtual int pump_fd() const = 0;

  // Peers' data for stream clients, at most out.size(); each must be given back with release().
  virtual size_t receive(std::span<StreamDelivery> out) = 0;
  virtual void release(uint64_t handle) = 0;
  // A stream client's ChannelData message or Send indication, as it came off its stream, for
  // the allocation its connection holds.
  virtual RelayResult relay(AllocId allocation, StreamId stream, std::span<const uint8_t> message) = 0;
  // The longest application data that still fits one datagram out of the data plane's ports.
  virtual size_t max_datagram() const = 0;

  virtual ExceptionCounterValues counters() const = 0;
};

}  // namespace tern::dp
