#pragma once
// ternctl's readable output of every reply (--json prints the reply itself instead).

#include <string>

#include "control/api/result.hpp"
#include "control/api/types.hpp"

namespace tern::ctl::ternctl {

std::string render(const api::VersionReply& r);
std::string render(const api::StatusReply& r);
// Every counter; with `nonzero`, only those that are not 0.
std::string render(const api::StatsReply& r, bool nonzero = false);
std::string render(const api::AllocationsReply& r);
std::string render(const api::AllocationReply& r);
std::string render(const api::KillReply& r);
std::string render(const api::UsersListReply& r);
std::string render(const api::UsersAddReply& r);
std::string render(const api::UsersRemoveReply& r);
std::string render(const api::SecretsReply& r);
std::string render(const api::ReloadReply& r);
std::string render(const api::DrainReply& r);
std::string render(const api::ProbeReport& r);
std::string render(const api::TraceReply& r);
std::string render(const api::TraceBatch& r);
std::string render(const api::TraceEnd& r);
// An error from ternd, with its details one per line.
std::string render(const api::Error& e);

}  // namespace tern::ctl::ternctl
