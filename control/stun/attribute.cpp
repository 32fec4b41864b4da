#include "control/stun/attribute.hpp"

namespace tern::stun {

std::string_view to_string(AttributeType type) {
  switch (type) {
#define TERN_STUN_ATTRIBUTE_NAME(name, code, text) \
  case AttributeType::name: return text;
    TERN_STUN_ATTRIBUTES(TERN_STUN_ATTRIBUTE_NAME)
#undef TERN_STUN_ATTRIBUTE_NAME
  }
  return "unknown";
}

bool is_known(uint16_t type) {
  switch (type) {
#define TERN_STUN_ATTRIBUTE_CODE(name, code, text) case code:
    TERN_STUN_ATTRIBUTES(TERN_STUN_ATTRIBUTE_CODE)
#undef TERN_STUN_ATTRIBUTE_CODE
    return true;
  }
  return false;
}

}  // namespace tern::stun
