// Operator tools that need no cluster and no running daemon:
//   explain <API path>  prints the backend request(s) the path becomes (token masked), sends nothing;
//   query <API path>    sends them and prints the document the HPA would get.
#pragma once

#include <ostream>
#include <string>

#include "cmd/adapter_options.h"

namespace sma::cmd {

int run_explain(const AdapterOptions& options, const std::string& api_path, std::ostream& out, std::ostream& err);
int run_query(const AdapterOptions& options, const std::string& api_path, std::ostream& out, std::ostream& err);

}  // namespace sma::cmd
