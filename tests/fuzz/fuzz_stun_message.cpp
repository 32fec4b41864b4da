// libFuzzer target for the STUN parser. For every input that parses it also runs every typed
// decoder on every attribute value, computes both integrity inputs, rebuilds the message from its
// attribute index and re-encodes every attribute that decodes through the builder's typed calls;
// both rebuilt messages must parse back to the same attributes. A broken invariant aborts.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "control/stun/stun.hpp"
#include "crypto/engine.hpp"

namespace {

using namespace tern;
using namespace tern::stun;

void require(bool condition) {
  if (!condition) std::abort();
}

bool same(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool inside(std::span<const uint8_t> inner, std::span<const uint8_t> outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

struct Fixture {
  std::unique_ptr<crypto::Engine> engine = crypto::make_engine(crypto::Backend::openssl);
  crypto::MacKey sha1 = engine->make_mac_key(crypto::Mac::hmac_sha1, std::span<const uint8_t>());
  crypto::MacKey sha256 = engine->make_mac_key(crypto::Mac::hmac_sha256, std::span<const uint8_t>());
  std::array<uint8_t, kMaxMessageSize> scratch{};
  std::array<uint8_t, kMaxMessageSize + 64> rebuilt{};
  std::array<uint8_t, kMaxMessageSize + 64> reencoded{};
  std::array<uint16_t, kMaxAttributeValueSize / 2> unknown_types{};
  std::array<PasswordAlgorithmEntry, kMaxAttributeValueSize / 4> entries{};
};

// Every value decoder on one value, whatever the attribute's type; views must stay inside it.
void decode_everything(std::span<const uint8_t> value, const TransactionId& id, crypto::Engine& engine) {
  (void)decode_address(value);
  (void)decode_xor_address(value, id);
  if (const auto text = decode_username(value)) require(text->size() == value.size());
  if (const auto text = decode_text(value)) {
    require(utf8_length(*text).value_or(1000) <= kMaxTextCharacters);
    (void)nonce_security_features(*text);
  }
  (void)decode_alternate_domain(value);
  if (const auto e = decode_error_code(value)) require(e->code.valid());
  if (const auto list = decode_unknown_attributes(value)) {
    for (size_t i = 0; i < list->size(); ++i) (void)(*list)[i];
  }
  if (const auto e = decode_address_error_code(value)) require(e->code.valid());
  (void)decode_userhash(value);
  if (const auto entry = decode_password_algorithm(value)) require(inside(entry->parameters, value));
  if (const auto list = decode_password_algorithms(value)) {
    size_t n = 0;
    for (const auto entry : *list) {
      require(inside(entry.parameters, value));
      ++n;
    }
    require(n == list->size() && n > 0);
  }
  (void)decode_channel_number(value);
  (void)decode_lifetime(value);
  (void)decode_family(value);
  (void)decode_even_port(value);
  (void)decode_requested_transport(value);
  (void)decode_reservation_token(value);
  (void)decode_icmp(value);
  (void)compute_userhash(std::string_view(reinterpret_cast<const char*>(value.data()), value.size()), "realm", engine);
}

// Re-adds every attribute of `m` that its typed getter decodes through the matching typed builder
// call (integrity attributes recomputed), then checks the result decodes to the same values.
void reencode(const Message& m, Fixture& f) {
  Builder b(f.reencoded, m.type(), m.transaction_id());
  size_t peers = 0;
  for (const RawAttribute raw : m.all(AttributeType::xor_peer_address)) {
    if (const auto a = decode_xor_address(raw.value, m.transaction_id())) {
      b.add_xor_peer_address(*a);
      ++peers;
    }
  }
  for (const RawAttribute raw : m.all(AttributeType::xor_relayed_address)) {
    if (const auto a = decode_xor_address(raw.value, m.transaction_id())) b.add_xor_relayed_address(*a);
  }
  const auto mapped = mapped_address(m);
  if (mapped) b.add_mapped_address(*mapped);
  const auto xmapped = xor_mapped_address(m);
  if (xmapped) b.add_xor_mapped_address(*xmapped);
  const auto alternate = alternate_server(m);
  if (alternate) b.add_alternate_server(*alternate);
  const auto user = username(m);
  const bool user_sent = user && sendable_username(*user);
  if (user_sent) b.add_username(*user);
  const auto r = realm(m);
  const bool realm_sent = r && sendable_text(*r);
  if (realm_sent) b.add_realm(*r);
  const auto n = nonce(m);
  const bool nonce_sent = n && sendable_text(*n);
  if (nonce_sent) b.add_nonce(*n);
  const auto sw = software(m);
  const bool software_sent = sw && sendable_text(*sw);
  if (software_sent) b.add_software(*sw);
  const auto domain = alternate_domain(m);
  if (domain) b.add_alternate_domain(*domain);
  const auto error = error_code(m);
  const bool error_sent = error && sendable_text(error->reason);
  if (error_sent) b.add_error_code(error->code, error->reason);
  const auto unknown = unknown_attributes(m);
  if (unknown) {
    for (size_t i = 0; i < unknown->size(); ++i) f.unknown_types[i] = (*unknown)[i];
    b.add_unknown_attributes({f.unknown_types.data(), unknown->size()});
  }
  const auto address_error = address_error_code(m);
  const bool address_error_sent = address_error && sendable_text(address_error->reason);
  if (address_error_sent) b.add_address_error_code(address_error->family, address_error->code, address_error->reason);
  const auto hash = userhash(m);
  if (hash) b.add_userhash(*hash);
  const auto algorithm = password_algorithm(m);
  if (algorithm) b.add_password_algorithm(*algorithm);
  const auto algorithms = password_algorithms(m);
  size_t entry_count = 0;
  if (algorithms) {
    for (const auto entry : *algorithms) f.entries[entry_count++] = entry;
    b.add_password_algorithms({f.entries.data(), entry_count});
  }
  const auto channel = channel_number(m);
  if (channel) b.add_channel_number(*channel);
  const auto life = lifetime(m);
  if (life) b.add_lifetime(*life);
  const auto payload = data(m);
  if (payload) b.add_data(*payload);
  const auto requested = requested_address_family(m);
  const bool requested_sent = requested && requested->family();
  if (requested_sent) b.add_requested_address_family(*requested->family());
  const auto additional = additional_address_family(m);
  const bool additional_sent = additional && additional->family();
  if (additional_sent) b.add_additional_address_family(*additional->family());
  const auto even = even_port(m);
  if (even) b.add_even_port(*even);
  const auto transport = requested_transport(m);
  if (transport) b.add_requested_transport(*transport);
  const auto fragment = dont_fragment(m);
  if (fragment) b.add_dont_fragment();
  const auto token = reservation_token(m);
  if (token) b.add_reservation_token(*token);
  const auto icmp_value = icmp(m);
  if (icmp_value) b.add_icmp(*icmp_value);
  if (m.has_message_integrity()) b.add_message_integrity(f.sha1, *f.engine);
  const auto sha256_tag = message_integrity_sha256(m);
  if (sha256_tag) b.add_message_integrity_sha256(f.sha256, *f.engine, sha256_tag->size());
  if (m.has_fingerprint()) b.add_fingerprint(*f.engine);

  const auto built = b.finish();
  // What decodes re-encodes; the message may grow (a recommended reason phrase for an empty one,
  // the padding of a last PASSWORD-ALGORITHM(S) entry) past the size limit, nothing else fails.
  if (!built) {
    require(built.error == BuildError::message_too_long || built.error == BuildError::overflow);
    return;
  }
  const auto again = parse(built.bytes, *f.engine);
  require(again.ok());
  const Message& a = again.message;
  require(a.type() == m.type() && a.transaction_id() == m.transaction_id());
  require(a.count(AttributeType::xor_peer_address) == peers);
  if (mapped) require(*mapped_address(a) == *mapped);
  if (xmapped) require(*xor_mapped_address(a) == *xmapped);
  if (alternate) require(*alternate_server(a) == *alternate);
  if (user_sent) require(*username(a) == *user);
  if (realm_sent) require(*realm(a) == *r);
  if (nonce_sent) require(*nonce(a) == *n);
  if (software_sent) require(*software(a) == *sw);
  if (domain) require(*alternate_domain(a) == *domain);
  if (error_sent) {
    require(error_code(a)->code == error->code);
    if (!error->reason.empty()) require(error_code(a)->reason == error->reason);
  }
  if (unknown) require(unknown_attributes(a)->size() == unknown->size());
  if (address_error_sent) require(address_error_code(a)->code == address_error->code);
  if (hash) require(same(*userhash(a), *hash));
  if (algorithm) {
    require(password_algorithm(a)->algorithm == algorithm->algorithm);
    require(same(password_algorithm(a)->parameters, algorithm->parameters));
  }
  if (algorithms) require(password_algorithms(a)->size() == entry_count);
  if (channel) require(*channel_number(a) == *channel);
  if (life) require(*lifetime(a) == *life);
  if (payload) require(same(*data(a), *payload));
  if (requested_sent) require(requested_address_family(a)->family() == requested->family());
  if (additional_sent) require(additional_address_family(a)->family() == additional->family());
  if (even) require(*even_port(a) == *even);
  if (transport) require(*requested_transport(a) == *transport);
  if (fragment) require(dont_fragment(a).present());
  if (token) require(*reservation_token(a) == *token);
  if (icmp_value) require(*icmp(a) == *icmp_value);
  require(a.has_message_integrity() == m.has_message_integrity());
  require(a.has_message_integrity_sha256() == m.has_message_integrity_sha256());
  require(a.has_fingerprint() == m.has_fingerprint());
  if (a.has_message_integrity()) require(verify_integrity(a, Integrity::sha1, f.sha1, *f.engine, f.scratch));
  if (a.has_message_integrity_sha256())
    require(verify_integrity(a, Integrity::sha256, f.sha256, *f.engine, f.scratch));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static Fixture f;
  const std::span<const uint8_t> input(bytes, size);

  (void)demux(input);
  const StreamFrame frame = next_stream_frame(input);
  if (frame.status == StreamFrame::Status::complete) require(frame.size <= size);

  const ParseResult parsed = parse(input, *f.engine);
  if (!parsed) {
    require(parsed.message.attribute_count() == 0);
    return 0;
  }
  const Message& m = parsed.message;
  require(m.bytes().size() == size);
  require(demux(input) == Demux::stun);
  require(frame.status == StreamFrame::Status::complete && frame.size == size);
  require(m.attribute_count() <= kMaxAttributes);
  require(m.unknown_required().size() <= m.attribute_count());

  for (size_t i = 0; i < m.attribute_count(); ++i) {
    const RawAttribute raw = m.attribute(i);
    require(inside(raw.value, m.bytes()));
    require(m.find(raw.type).has_value());
    decode_everything(raw.value, m.transaction_id(), *f.engine);
  }
  for (const uint16_t type : m.unknown_required()) require(is_comprehension_required(type) && !is_known(type));

  // Both integrity inputs: the copy ends where the attribute starts and its length points at the
  // attribute's end.
  for (const Integrity kind : {Integrity::sha1, Integrity::sha256}) {
    const auto input_size = integrity_input_size(m, kind);
    const auto in = integrity_input(m, kind, f.scratch);
    require(in.has_value() == input_size.has_value());
    if (!in) continue;
    require(in->message.size() == *input_size && *input_size >= kHeaderSize);
    require(inside(in->expected, m.bytes()));
    const size_t length = (size_t{in->message[2]} << 8) | in->message[3];
    require(length == *input_size - kHeaderSize + kAttributeHeaderSize + in->expected.size());
    (void)f.engine->verify(kind == Integrity::sha1 ? f.sha1 : f.sha256, in->message, in->expected);
  }

  // Rebuild from the index: same attribute types and values, integrity recomputed.
  Builder b(f.rebuilt, m.type(), m.transaction_id());
  for (size_t i = 0; i < m.attribute_count(); ++i) {
    const RawAttribute raw = m.attribute(i);
    if (raw.type == AttributeType::message_integrity) {
      b.add_message_integrity(f.sha1, *f.engine);
    } else if (raw.type == AttributeType::message_integrity_sha256) {
      b.add_message_integrity_sha256(f.sha256, *f.engine, raw.value.size());
    } else if (raw.type == AttributeType::fingerprint) {
      b.add_fingerprint(*f.engine);
    } else {
      b.add_raw(raw.type_code(), raw.value);
    }
  }
  const auto rebuilt = b.finish();
  require(rebuilt.ok());
  require(rebuilt.bytes.size() <= size);
  const auto again = parse(rebuilt.bytes, *f.engine);
  require(again.ok());
  require(again.message.attribute_count() == m.attribute_count());
  for (size_t i = 0; i < m.attribute_count(); ++i) {
    const RawAttribute x = m.attribute(i);
    const RawAttribute y = again.message.attribute(i);
    require(x.type == y.type);
    if (x.type != AttributeType::message_integrity && x.type != AttributeType::message_integrity_sha256 &&
        x.type != AttributeType::fingerprint)
      require(same(x.value, y.value));
  }
  const auto unknown_before = m.unknown_required();
  const auto unknown_after = again.message.unknown_required();
  require(unknown_before.size() == unknown_after.size());
  for (size_t i = 0; i < unknown_before.size(); ++i) require(unknown_before[i] == unknown_after[i]);

  reencode(m, f);
  return 0;
}
