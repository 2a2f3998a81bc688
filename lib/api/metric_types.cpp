#include "lib/api/metric_types.h"

namespace sma::api {

GroupResource GroupResource::parse(const std::string& qualified) {
  auto dot = qualified.find('.');
  if (dot == std::string::npos) return {qualified, ""};
  return {qualified.substr(0, dot), qualified.substr(dot + 1)};
}

std::string GroupResource::to_string() const { return group.empty() ? resource : resource + "." + group; }

}  // namespace sma::api
