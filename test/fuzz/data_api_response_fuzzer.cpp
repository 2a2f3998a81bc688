// The Data API readers on arbitrary bodies: parse_data_response (key_count from the first byte,
// the body after it), parse_descriptors_response and parse_error_message. Properties: only
// DataApiResponseError escapes the first two (parse_error_message throws nothing); every row has
// key_count keys and a finite value; an error message is non-empty, at most 200 bytes and valid
// UTF-8.
#include <cmath>
#include <exception>

#include "providers/sysdig_data/data_api_response.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;
using providers::sysdig_data::DataApiResponseError;

template <typename Parse>
void run(const char* what, Parse parse, std::string_view body) {
  try {
    parse();
  } catch (const DataApiResponseError& e) {
    FUZZ_CHECK(*e.what() != '\0', std::string(what) + ": empty message for " + printable(body));
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string(what) + ": unexpected exception: " + e.what() + " for " + printable(body));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t key_count = data[0];
  const std::string_view body = fuzz::as_text(data + 1, size - 1);

  run("parse_data_response", [&] {
    for (const auto& row : providers::sysdig_data::parse_data_response(body, key_count)) {
      FUZZ_CHECK(row.keys.size() == key_count, "row with " + std::to_string(row.keys.size()) + " keys");
      FUZZ_CHECK(std::isfinite(row.value), "row with a value that is not finite");
      for (const auto& key : row.keys) FUZZ_CHECK(fuzz::is_utf8(key), "key " + printable(key));
    }
  }, body);

  run("parse_descriptors_response", [&] {
    auto page = providers::sysdig_data::parse_descriptors_response(body);
    for (const auto& d : page.descriptors) {
      FUZZ_CHECK(fuzz::is_utf8(d.id) && fuzz::is_utf8(d.metric_type), "descriptor " + printable(d.id));
    }
  }, body);

  std::optional<std::string> message;
  try {
    message = providers::sysdig_data::parse_error_message(body);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("parse_error_message threw ") + e.what() + " for " + printable(body));
  }
  if (message) {
    FUZZ_CHECK(!message->empty() && message->size() <= 200 && fuzz::is_utf8(*message),
               "error message " + printable(*message));
  }
  return 0;
}
