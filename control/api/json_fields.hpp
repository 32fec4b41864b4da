#pragma once
// The two walks over a struct's fields() list that make up the codec: FieldWriter puts every
// member into a JSON object, FieldReader takes them out again, checking types and ranges and
// naming the first field that was wrong. Only api/codec.cpp includes this (it brings in
// nlohmann::json, which no other header should).

#include <concepts>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "control/api/types.hpp"

namespace tern::ctl::api::json_fields {

using Json = nlohmann::ordered_json;

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

// Addresses and the like: values that travel as their text form.
template <typename T>
concept TextValued = requires(const T& t, std::string_view s) {
  { t.to_string() } -> std::convertible_to<std::string>;
  { T::parse(s) } -> std::same_as<std::optional<T>>;
};

struct NoFields {
  template <typename S, typename V>
  static void fields(S&, V&) {}
};

template <typename T>
concept HasFields = requires(T& t, NoFields& v) { T::fields(t, v); };

// ---- writing ----

template <typename T>
Json to_value(const T& value);

class FieldWriter {
 public:
  explicit FieldWriter(Json& object) : object_(object) {}
  template <typename T>
  void operator()(std::string_view key, const T& value) {
    if constexpr (IsOptional<T>::value) {
      if (value) object_[std::string(key)] = to_value(*value);
    } else {
      object_[std::string(key)] = to_value(value);
    }
  }

 private:
  Json& object_;
};

template <typename T>
Json to_value(const T& value) {
  if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T>) {
    return value;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else if constexpr (std::is_same_v<T, CounterSet>) {
    Json object = Json::object();
    for (const auto& c : value) object[c.name] = c.value;
    return object;
  } else if constexpr (IsVector<T>::value) {
    Json array = Json::array();
    for (const auto& item : value) array.push_back(to_value(item));
    return array;
  } else if constexpr (TextValued<T>) {
    return value.to_string();
  } else {
    static_assert(HasFields<T>, "a field type the codec does not know");
    Json object = Json::object();
    FieldWriter writer(object);
    T::fields(value, writer);
    return object;
  }
}

// ---- reading ----

// Where a value sits, for messages: "allocation.permission_list[2].peer".
class FieldReader;

template <typename T>
bool from_value(const Json& j, T& out, std::string& error, const std::string& path, bool strict);

class FieldReader {
 public:
  FieldReader(const Json& object, std::string path, bool strict, std::string& error)
      : object_(object), path_(std::move(path)), strict_(strict), error_(error) {}

  template <typename T>
  void operator()(std::string_view key, T& out) {
    if (!error_.empty()) return;
    known_.insert(std::string(key));
    const auto it = object_.find(std::string(key));
    const std::string path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    if constexpr (IsOptional<T>::value) {
      if (it == object_.end() || it->is_null()) {
        out.reset();
        return;
      }
      typename T::value_type value{};
      if (from_value(*it, value, error_, path, strict_)) out = std::move(value);
    } else {
      if (it == object_.end()) {
        error_ = "missing field '" + path + "'";
        return;
      }
      from_value(*it, out, error_, path, strict_);
    }
  }

  // Keys present in the object that no field claimed (and that are not in `also`).
  void check_unknown(std::initializer_list<std::string_view> also = {}) {
    if (!error_.empty() || !strict_) return;
    for (const auto& [key, value] : object_.items()) {
      if (known_.count(key)) continue;
      bool allowed = false;
      for (const auto a : also) allowed = allowed || key == a;
      if (!allowed) {
        error_ = "unknown field '" + (path_.empty() ? key : path_ + "." + key) + "'";
        return;
      }
    }
  }

 private:
  const Json& object_;
  std::string path_;
  bool strict_;
  std::string& error_;
  std::set<std::string, std::less<>> known_;
};

template <typename T>
bool fail(std::string& error, const std::string& path, std::string_view expected) {
  error = "field '" + path + "': expected " + std::string(expected);
  return false;
}

template <typename T>
bool from_value(const Json& j, T& out, std::string& error, const std::string& path, bool strict) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return fail<T>(error, path, "true or false");
    out = j.get<bool>();
    return true;
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    if (!j.is_number_integer()) return fail<T>(error, path, "an unsigned integer");
    if (j.is_number_unsigned()) {
      const uint64_t v = j.get<uint64_t>();
      if (v > std::numeric_limits<T>::max()) return fail<T>(error, path, "a smaller number");
      out = static_cast<T>(v);
      return true;
    }
    if (j.get<int64_t>() < 0) return fail<T>(error, path, "an unsigned integer");
    out = static_cast<T>(j.get<int64_t>());
    return true;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    if (!j.is_number_integer()) return fail<T>(error, path, "an integer");
    if (j.is_number_unsigned() ? j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())
                               : (j.get<int64_t>() < std::numeric_limits<T>::min() ||
                                  j.get<int64_t>() > std::numeric_limits<T>::max()))
      return fail<T>(error, path, "a smaller number");
    out = static_cast<T>(j.get<int64_t>());
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) return fail<T>(error, path, "a number");
    out = j.get<T>();
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return fail<T>(error, path, "a string");
    out = j.get<std::string>();
    return true;
  } else if constexpr (std::is_same_v<T, CounterSet>) {
    if (!j.is_object()) return fail<T>(error, path, "an object of counters");
    out.clear();
    for (const auto& [key, value] : j.items()) {
      NamedValue c{key, 0};
      if (!from_value(value, c.value, error, path + "." + key, strict)) return false;
      out.push_back(std::move(c));
    }
    return true;
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) return fail<T>(error, path, "an array");
    out.clear();
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      typename T::value_type item{};
      if (!from_value(j[i], item, error, path + "[" + std::to_string(i) + "]", strict)) return false;
      out.push_back(std::move(item));
    }
    return true;
  } else if constexpr (TextValued<T>) {
    if (!j.is_string()) return fail<T>(error, path, "an address as a string");
    const auto parsed = T::parse(j.get_ref<const std::string&>());
    if (!parsed) return fail<T>(error, path, "an address, not \"" + j.get<std::string>() + "\"");
    out = *parsed;
    return true;
  } else {
    static_assert(HasFields<T>, "a field type the codec does not know");
    if (!j.is_object()) return fail<T>(error, path, "an object");
    FieldReader reader(j, path, strict, error);
    T::fields(out, reader);
    reader.check_unknown();
    return error.empty();
  }
}

}  // namespace tern::ctl::api::json_fields
