// Command-line flags the way Kubernetes components take them: --name=value or --name value,
// booleans as --name or --name=false, durations in Go syntax. Unknown flags are errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace sma::cmd {

struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class FlagSet {
 public:
  void add_string(std::string name, std::string* target, std::string help);
  void add_bool(std::string name, bool* target, std::string help);
  void add_port(std::string name, std::uint16_t* target, std::string help);
  void add_duration(std::string name, std::chrono::milliseconds* target, std::string help);

  // Parses argv[1..]; returns the positional arguments (sub-command and its operands). A "--"
  // ends the flags. Throws FlagError with a one-line reason.
  std::vector<std::string> parse(int argc, const char* const* argv);

  bool help_requested() const { return help_requested_; }
  bool was_set(const std::string& name) const { return set_.count(name) > 0; }
  // Every flag with its default and help, sorted by name.
  std::string usage(const std::string& program) const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    std::function<void(const std::string&)> assign;  // throws FlagError on a bad value
  };
  void add(Flag flag);
  const Flag* find(const std::string& name) const;

  std::vector<Flag> flags_;
  std::set<std::string> set_;
  bool help_requested_ = false;
};

}  // namespace sma::cmd
