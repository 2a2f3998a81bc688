#include "cmd/flag_set.h"

#include <algorithm>
#include <charconv>

#include "lib/config/go_duration.h"

namespace sma::cmd {

void FlagSet::add(Flag flag) { flags_.push_back(std::move(flag)); }

const FlagSet::Flag* FlagSet::find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void FlagSet::add_string(std::string name, std::string* target, std::string help) {
  add({name, std::move(help), target->empty() ? "" : "\"" + *target + "\"", false,
       [target](const std::string& v) { *target = v; }});
}

void FlagSet::add_bool(std::string name, bool* target, std::string help) {
  add({name, std::move(help), *target ? "true" : "", true, [target, name](const std::string& v) {
         if (v == "true" || v == "1") {
           *target = true;
         } else if (v == "false" || v == "0") {
           *target = false;
         } else {
           throw FlagError("invalid value \"" + v + "\" for --" + name + ": expected true or false");
         }
       }});
}

void FlagSet::add_port(std::string name, std::uint16_t* target, std::string help) {
  add({name, std::move(help), std::to_string(*target), false, [target, name](const std::string& v) {
         unsigned value = 0;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
         if (ec != std::errc{} || end != v.data() + v.size() || value > 65535) {
           throw FlagError("invalid value \"" + v + "\" for --" + name + ": expected a port number 0-65535");
         }
         *target = static_cast<std::uint16_t>(value);
       }});
}

void FlagSet::add_duration(std::string name, std::chrono::milliseconds* target, std::string help) {
  add({name, std::move(help), config::format_go_duration(*target), false, [target, name](const std::string& v) {
         auto d = config::parse_go_duration(v);
         if (!d) throw FlagError("invalid value \"" + v + "\" for --" + name + ": expected a duration such as 500ms, 10s, 1m");
         *target = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
       }});
}

std::vector<std::string> FlagSet::parse(int argc, const char* const* argv) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      help_requested_ = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    // Accept -name as well as --name, as Go's flag packages do.
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    auto eq = body.find('=');
    std::string name = body.substr(0, eq);
    const Flag* flag = find(name);
    if (flag == nullptr) throw FlagError("unknown flag --" + name + " (see --help)");
    std::string value;
    if (eq != std::string::npos) {
      value = body.substr(eq + 1);
    } else if (flag->is_bool) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw FlagError("flag --" + name + " needs a value");
    }
    flag->assign(value);
    set_.insert(name);
  }
  return positional;
}

std::string FlagSet::usage(const std::string& program) const {
  std::vector<const Flag*> sorted;
  for (const auto& f : flags_) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](const Flag* a, const Flag* b) { return a->name < b->name; });
  std::string out = "Usage: " + program + " [flags]\n\nFlags:\n";
  for (const Flag* f : sorted) {
    out += "  --" + f->name + (f->is_bool ? "" : " value") + "\n      " + f->help;
    if (!f->default_text.empty()) out += " (default " + f->default_text + ")";
    out += "\n";
  }
  return out;
}

}  // namespace sma::cmd
