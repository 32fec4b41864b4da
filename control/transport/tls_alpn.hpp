#pragma once
// Application-Layer Protocol Negotiation for TURN over TLS (RFC 7301). RFC 7443 registers the
// ALPN protocol ID "stun.turn" for TURN over TLS and DTLS; a TURN client may offer it next to
// others (coturn's turnutils_uclient offers "http/1.1", "stun.turn", "stun.nat-discovery").
// "http/1.1" is accepted only when the settings ask for it (a self-test page, some day).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tern::ctl {

inline constexpr std::string_view kAlpnTurn = "stun.turn";
inline constexpr std::string_view kAlpnHttp = "http/1.1";

// What a connection's ALPN settled on.
enum class TlsApplication : uint8_t {
  none,  // the client sent no ALPN extension: TURN, as before ALPN existed
  turn,  // "stun.turn"
  http,  // "http/1.1" (only with TlsSettings::alpn_http)
};
std::string_view to_string(TlsApplication application);
// The selected protocol's name -> what it is (an empty name -> none).
TlsApplication application_of(std::string_view selected);

// Picks from a ClientHello's protocol list in its wire form (RFC 7301 §3.1: a sequence of
// 8-bit-length-prefixed names). Our preference decides, not the client's order (RFC 7301 §3.2:
// "The server SHOULD select the most highly preferred protocol that it supports and that is also
// advertised by the client"): "stun.turn" first, then "http/1.1" if accepted. The name returned
// lies inside `offered`; nullopt when nothing is acceptable or the list is malformed.
std::optional<std::span<const uint8_t>> select_alpn(std::span<const uint8_t> offered,
                                                    bool accept_http);

}  // namespace tern::ctl
