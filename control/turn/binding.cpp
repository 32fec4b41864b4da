// RFC 8489 §6.3.1.1: the Binding success response carries XOR-MAPPED-ADDRESS, "the source transport
// address of the request message". The data plane answers plain Binding requests itself; those
// with credentials or unknown attributes come here.

#include "control/turn/handlers.hpp"

namespace tern::ctl {

void handle_binding(HandlerContext&, Transaction& tx) {
  tx.reply.success().add_xor_mapped_address(tx.five_tuple.client);
}

}  // namespace tern::ctl
