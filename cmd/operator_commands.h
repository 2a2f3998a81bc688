// Operator tools that need no cluster and no running daemon:
//   explain <API path>  prints the backend request(s) the path becomes (token masked), sends nothing;
//   query <API path>    sends them and prints the document the HPA would get.
#pragma once

#include <ostream>
#include <string>

#include "cmd/adapter_options.h"
#include "lib/server/https_server.h"

namespace sma::cmd {

int run_explain(const AdapterOptions& options, const std::string& api_path, std::ostream& out, std::ostream& err);
int run_query(const AdapterOptions& options, const std::string& api_path, std::ostream& out, std::ostream& err);

// A GET of `path` as the daemon's handler receives it, with no peer certificate: how the operator
// tools ask the handler without a socket.
server::HttpRequest api_get(const std::string& path);

}  // namespace sma::cmd
