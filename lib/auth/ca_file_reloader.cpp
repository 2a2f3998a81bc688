#include "lib/auth/ca_file_reloader.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace sma::auth {
namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void CaFileReloader::watch(std::string file, std::string flag, std::shared_ptr<ClientCertificateVerifier> verifier) {
  std::string text = read_text(file).value_or("");
  std::lock_guard lock(mutex_);
  watched_.push_back({std::move(file), std::move(flag), std::move(verifier), std::move(text)});
}

std::vector<CaFileReloader::Event> CaFileReloader::reload() {
  std::lock_guard lock(mutex_);  // one reload at a time: events come out in the order they happened
  std::vector<Event> events;
  for (auto& w : watched_) {
    auto text = read_text(w.file);
    if (!text) {
      events.push_back({true, w.file, w.flag, "cannot read " + w.file});
      continue;
    }
    if (*text == w.in_force) continue;
    try {
      w.verifier->replace(*text, w.file);
      w.in_force = std::move(*text);
      events.push_back({false, w.file, w.flag, ""});
    } catch (const std::exception& e) {
      events.push_back({true, w.file, w.flag, e.what()});
    }
  }
  return events;
}

std::vector<std::string> CaFileReloader::files() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> files;
  for (const auto& w : watched_) files.push_back(w.file);
  return files;
}

}  // namespace sma::auth
