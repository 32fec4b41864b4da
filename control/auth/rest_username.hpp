#pragma once
// TURN REST API usernames (draft-uberti-behave-turn-rest-00 §2.2): "the TURN username ... is a
// colon-delimited combination of the expiration timestamp and the username parameter from the
// request (if specified)", so "1700000000:alice", or "1700000000" alone. coturn also accepts the
// user first, "alice:1700000000", and clients written for it send that; tern accepts all three.
// The timestamp is the expiry in UNIX seconds; the password is base64(HMAC-SHA1(secret, username))
// over the whole username.

#include <cstdint>
#include <optional>
#include <string_view>

namespace tern::ctl {

struct RestUsername {
  int64_t expiry = 0;
  std::string_view user;  // may be empty ("1700000000")
};

// The timestamp is 1 to 18 decimal digits. When the part before the first ':' is all digits it is
// the timestamp; otherwise the part after the last ':' must be. nullopt when neither is.
std::optional<RestUsername> parse_rest_username(std::string_view username);

}  // namespace tern::ctl
