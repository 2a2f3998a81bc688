// Turns what cpprestsdk reports for a failed request into a FetchError kind and a cause a person
// can act on. cpprestsdk folds Boost.Asio's error categories into plain errno values and words
// its messages per stage, so both are read here, in one place.
#pragma once

#include <cpprest/http_msg.h>

#include <string>
#include <string_view>

#include "lib/http/http_fetcher.h"

namespace sma::http {

struct TransportFailure {
  FetchError::Kind kind;
  std::string cause;  // "cannot connect: connection refused or host unreachable"
};

// `tls_verification_failure` is TlsClientSetup's account of the last failed certificate check
// for this origin, used to explain a failed handshake.
TransportFailure classify_transport_failure(const web::http::http_exception& error,
                                            std::string_view tls_verification_failure);

}  // namespace sma::http
