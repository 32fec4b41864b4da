#include "control/api/codec.hpp"

#include <array>
#include <utility>

#include "control/api/json_fields.hpp"

namespace tern::ctl::api {
namespace {

using json_fields::Json;

std::string dump(const Json& j) {
  // Usernames come from the network: invalid UTF-8 is replaced rather than refused.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json envelope(std::optional<uint64_t> id) {
  Json j = Json::object();
  j["v"] = kProtocolVersion;
  if (id) j["id"] = *id;
  return j;
}

std::optional<Json> parse_object(std::string_view line) {
  Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// Decodes the arguments of request type R from the request object.
template <typename R>
Result<Request> decode_arguments(const Json& j) {
  R request{};
  std::string error;
  json_fields::FieldReader reader(j, "", /*strict=*/true, error);
  R::fields(request, reader);
  reader.check_unknown({"v", "cmd", "id"});
  if (!error.empty()) return bad_request(std::string(R::kCommand) + ": " + error);
  return Request(std::move(request));
}

using Decoder = Result<Request> (*)(const Json&);

template <size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
  return std::array<std::pair<std::string_view, Decoder>, sizeof...(I)>{
      std::pair<std::string_view, Decoder>{std::variant_alternative_t<I, Request>::kCommand,
                                           &decode_arguments<std::variant_alternative_t<I, Request>>}...};
}
constexpr auto kDecoders = make_decoders(std::make_index_sequence<std::variant_size_v<Request>>{});

std::string command_list() {
  std::string out;
  for (const auto& [name, decoder] : kDecoders) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

Result<Request> decode_request(std::string_view line, std::optional<uint64_t>& id) {
  id.reset();
  if (line.size() > kMaxRequestLine)
    return Error{ErrorCode::too_large, "request longer than " + std::to_string(kMaxRequestLine) + " bytes"};
  const auto parsed = parse_object(line);
  if (!parsed) return Error{ErrorCode::parse_error, "not a JSON object on one line"};
  const Json& j = *parsed;
  if (const auto it = j.find("id"); it != j.end()) {
    if (!it->is_number_unsigned()) return bad_request("'id' must be an unsigned integer");
    id = it->get<uint64_t>();
  }
  const auto v = j.find("v");
  if (v == j.end()) return bad_request("missing 'v' (the protocol version; this server speaks 1)");
  if (!v->is_number_unsigned() || v->get<uint64_t>() != kProtocolVersion) {
    const std::string which = v->is_number_unsigned() ? std::to_string(v->get<uint64_t>()) : std::string("'v'");
    return Error{ErrorCode::unsupported_version, "protocol version " + which + " is not spoken here; use 1"};
  }
  const auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) return bad_request("missing 'cmd' (a command name)");
  const auto& name = cmd->get_ref<const std::string&>();
  for (const auto& [command, decoder] : kDecoders)
    if (command == name) return decoder(j);
  return Error{ErrorCode::unknown_command, "unknown command '" + name + "'; commands: " + command_list()};
}

template <typename Body>
std::string encode_reply(const Body& body, std::optional<uint64_t> id) {
  Json j = envelope(id);
  j["ok"] = true;
  j["result"] = json_fields::to_value(body);
  return dump(j);
}

std::string encode_error(const Error& error, std::optional<uint64_t> id) {
  Json j = envelope(id);
  j["ok"] = false;
  Json e = Json::object();
  e["code"] = std::string(to_string(error.code));
  e["message"] = error.message;
  if (!error.details.empty()) e["details"] = error.details;
  j["error"] = std::move(e);
  return dump(j);
}

template <typename Body>
std::string encode_event(std::string_view event, const Body& body, std::optional<uint64_t> id) {
  Json j = envelope(id);
  j["event"] = std::string(event);
  j["result"] = json_fields::to_value(body);
  return dump(j);
}

std::string encode_request(const Request& request, std::optional<uint64_t> id) {
  return std::visit(
      [&](const auto& r) {
        using R = std::decay_t<decltype(r)>;
        Json j = envelope(id);
        j["cmd"] = std::string(R::kCommand);
        json_fields::FieldWriter writer(j);
        R::fields(r, writer);
        return dump(j);
      },
      request);
}

std::optional<std::string> event_of(std::string_view line) {
  const auto parsed = parse_object(line);
  if (!parsed) return std::nullopt;
  const auto it = parsed->find("event");
  if (it == parsed->end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

template <typename Body>
Result<Body> decode_reply(std::string_view line, std::string_view event) {
  const auto parsed = parse_object(line);
  if (!parsed) return Error{ErrorCode::parse_error, "the server's answer is not a JSON object"};
  const Json& j = *parsed;
  if (const auto e = j.find("error"); e != j.end()) {
    Error error;
    std::string code;
    if (e->is_object()) {
      if (const auto c = e->find("code"); c != e->end() && c->is_string()) code = c->get<std::string>();
      if (const auto m = e->find("message"); m != e->end() && m->is_string()) error.message = m->get<std::string>();
      if (const auto d = e->find("details"); d != e->end() && d->is_array())
        for (const auto& line_of : *d)
          if (line_of.is_string()) error.details.push_back(line_of.get<std::string>());
    }
    if (!parse_error_code(code, error.code)) error.code = ErrorCode::failed;
    return error;
  }
  const auto ev = j.find("event");
  const std::string got = ev != j.end() && ev->is_string() ? ev->get<std::string>() : std::string();
  if (got != event) return bad_request("expected " + (event.empty() ? std::string("a reply") : "event " + std::string(event)) +
                                       ", got " + (got.empty() ? std::string("a reply") : "event " + got));
  const auto result = j.find("result");
  if (result == j.end()) return bad_request("the server's answer has no result");
  Body body{};
  std::string error;
  json_fields::from_value(*result, body, error, "result", /*strict=*/false);
  if (!error.empty()) return bad_request("the server's answer: " + error);
  return body;
}

template <typename Body>
std::string to_json(const Body& body) {
  return dump(json_fields::to_value(body));
}

#define TERN_API_INSTANTIATE(T)                                                               \
  template std::string encode_reply<T>(const T&, std::optional<uint64_t>);                   \
  template std::string encode_event<T>(std::string_view, const T&, std::optional<uint64_t>); \
  template Result<T> decode_reply<T>(std::string_view, std::string_view);                    \
  template std::string to_json<T>(const T&);
TERN_API_BODIES(TERN_API_INSTANTIATE)
#undef TERN_API_INSTANTIATE

}  // namespace tern::ctl::api
