// A request's kind and API version for the request metrics, read from the target without a full
// parse: object, selector, external, discovery, openapi, write, health, metrics or other.
#pragma once

#include <string_view>

namespace sma::apiserver {

struct RequestKind {
  std::string_view kind;
  std::string_view version;  // v1beta1, v1beta2, external.v1beta1, none
};

RequestKind request_kind(std::string_view target);

}  // namespace sma::apiserver
