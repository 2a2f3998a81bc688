// parse_instant_query_response and parse_label_values_response on arbitrary bodies. Properties:
// only PromqlResponseError escapes; its messages are bounded, a Malformed message is printable
// ASCII (untrusted bytes are escaped before they reach a log or a Status), an Api message and
// error type are cut to their limits on a UTF-8 boundary; answers hold valid UTF-8 only.
#include <exception>

#include "providers/promql/promql_response.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;
using providers::promql::PromqlResponseError;

void check_error(const PromqlResponseError& e, std::string_view body) {
  const std::string_view message = e.what();
  if (e.kind() == PromqlResponseError::Kind::Api) {
    // The backend's own text, which may be empty (or cut at a "\u0000": what() is a C string).
    FUZZ_CHECK(message.size() <= 200 && fuzz::is_utf8(message), "Api message " + printable(message));
    FUZZ_CHECK(e.error_type().size() <= 40 && fuzz::is_utf8(e.error_type()), "Api errorType " + printable(e.error_type()));
    return;
  }
  FUZZ_CHECK(!message.empty(), "empty Malformed message for " + printable(body));
  FUZZ_CHECK(e.error_type().empty(), "Malformed with an errorType");
  FUZZ_CHECK(message.size() <= 400, "Malformed message of " + std::to_string(message.size()) + " bytes: " + printable(message));
  for (char c : message) {
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "Malformed message with raw bytes: " + printable(message));
  }
}

template <typename Parse>
void run(Parse parse, std::string_view body) {
  try {
    parse(body);
  } catch (const PromqlResponseError& e) {
    check_error(e, body);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("unexpected exception: ") + e.what() + " for " + printable(body));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  run(
      [](std::string_view b) {
        for (const auto& sample : providers::promql::parse_instant_query_response(std::string(b))) {
          FUZZ_CHECK(fuzz::is_utf8(sample.value), "sample value " + printable(sample.value));
          for (const auto& [name, value] : sample.labels) {
            FUZZ_CHECK(fuzz::is_utf8(name) && fuzz::is_utf8(value), "label " + printable(name) + "=" + printable(value));
          }
        }
      },
      body);
  run(
      [](std::string_view b) {
        for (const auto& value : providers::promql::parse_label_values_response(b)) {
          FUZZ_CHECK(fuzz::is_utf8(value), "label value " + printable(value));
        }
      },
      body);
  return 0;
}
