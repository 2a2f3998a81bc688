// Who made a request, as Kubernetes' authenticators describe a user.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sma::auth {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

}  // namespace sma::auth
