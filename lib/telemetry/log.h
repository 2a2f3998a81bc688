// Structured logs: one JSON object per line on stderr, {"time","level","msg", fields...}.
// Callers never pass secrets; the Sysdig token is kept out of every field by construction.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sma::telemetry {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };

using LogField = std::pair<std::string_view, std::string_view>;

void set_log_level(LogLevel level);
// "debug", "info", "warning", "error"; false when unknown.
bool parse_log_level(std::string_view text, LogLevel& out);

void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
inline void log_debug(std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::Debug, m, f); }
inline void log_info(std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::Info, m, f); }
inline void log_warning(std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::Warning, m, f); }
inline void log_error(std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::Error, m, f); }

}  // namespace sma::telemetry
