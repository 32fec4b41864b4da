#include "conf/load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <libconfig.h++>

#include "conf/decode.hpp"
#include "conf/scan.hpp"
#include "conf/validate.hpp"
#include "crypto/engine.hpp"

namespace tern::conf {
namespace {

// The line of the setting a Problem names ("auth.users[1].name"), or of its nearest enclosing
// setting present in the file; 0 when not even the top-level group is there.
unsigned line_of(const libconfig::Setting& root, std::string_view path) {
  const libconfig::Setting* at = &root;
  while (!path.empty()) {
    const libconfig::Setting* next = nullptr;
    if (path.front() == '[') {
      const size_t close = path.find(']');
      if (close == std::string_view::npos) break;
      const int index = std::atoi(std::string(path.substr(1, close - 1)).c_str());
      if (at->isAggregate() && index >= 0 && index < at->getLength()) next = &(*at)[index];
      path.remove_prefix(close + 1);
    } else {
      if (path.front() == '.') path.remove_prefix(1);
      const size_t end = std::min(path.find('.'), path.find('['));
      const std::string name(path.substr(0, end));
      if (at->isGroup() && at->exists(name)) next = &(*at)[name.c_str()];
      path.remove_prefix(end == std::string_view::npos ? path.size() : end);
    }
    if (!next) break;
    at = next;
  }
  return at->getSourceLine();
}

void report(std::string_view name, std::vector<LocatedError>& found,
            std::vector<std::string>& errors) {
  std::stable_sort(found.begin(), found.end(),
                   [](const LocatedError& a, const LocatedError& b) { return a.line < b.line; });
  for (const auto& e : found) {
    std::string line(name);
    if (e.line != 0) {
      line += ':';
      line += std::to_string(e.line);
    }
    line += ": ";
    line += e.text;
    errors.push_back(std::move(line));
  }
}

}  // namespace

std::optional<Config> load_string(std::string_view text, std::string_view name,
                                  std::vector<std::string>& errors) {
  std::vector<LocatedError> found;
  const SourceScan scan = scan_source(text);
  if (scan.nul_line) found.push_back({*scan.nul_line, "a NUL byte: this is not a text file"});
  if (scan.unterminated_string_line)
    found.push_back({*scan.unterminated_string_line, "string not terminated (a \" is missing)"});
  for (const unsigned line : scan.include_lines)
    found.push_back({line, "@include is not supported: the configuration is one file"});
  if (!found.empty()) {
    report(name, found, errors);
    return std::nullopt;
  }

  libconfig::Config parsed;
  try {
    parsed.readString(std::string(text));
  } catch (const libconfig::ParseException& e) {
    found.push_back({static_cast<unsigned>(std::max(e.getLine(), 0)), e.getError()});
    report(name, found, errors);
    return std::nullopt;
  }

  const auto engine = crypto::make_engine(crypto::Backend::openssl);
  if (!engine) {
    errors.push_back(std::string(name) + ": no crypto engine to derive users' keys with");
    return std::nullopt;
  }
  Config config;
  if (!decode(parsed.getRoot(), scan, *engine, config, found)) {
    report(name, found, errors);
    return std::nullopt;
  }
  for (auto& problem : validate(config))
    found.push_back(
        {line_of(parsed.getRoot(), problem.setting), problem.setting + ": " + problem.message});
  if (!found.empty()) {
    report(name, found, errors);
    return std::nullopt;
  }
  return config;
}

std::optional<Config> load_file(std::string_view path, std::vector<std::string>& errors) {
  const std::string file(path);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errors.push_back(file + ": cannot open: " + std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buffer, static_cast<size_t>(n));
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    errors.push_back(file + ": cannot read: " + std::strerror(read_errno));
    return std::nullopt;
  }
  return load_string(text, path, errors);
}

}  // namespace tern::conf
