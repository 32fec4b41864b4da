#pragma once
// The STUN/TURN codec (RFC 8489, RFC 8656) in one include: parser, typed attribute getters,
// integrity, builder and ChannelData.

#include "control/stun/address_attributes.hpp"
#include "control/stun/attribute.hpp"
#include "control/stun/builder.hpp"
#include "control/stun/channel_data.hpp"
#include "control/stun/credential_attributes.hpp"
#include "control/stun/error_attributes.hpp"
#include "control/stun/integrity.hpp"
#include "control/stun/message.hpp"
#include "control/stun/parser.hpp"
#include "control/stun/string_attributes.hpp"
#include "control/stun/turn_attributes.hpp"
