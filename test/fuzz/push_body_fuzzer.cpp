// parse_push_body on arbitrary bodies. Properties: nothing but MetricsError(BadRequest) escapes;
// an accepted body has only label keys and values that pass lib/api/names.h, and a value whose
// canonical string parses back to it.
#include <exception>

#include "lib/api/names.h"
#include "providers/provider.h"
#include "providers/push/push_body.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;

void check_labels(const api::Labels& labels, std::string_view body) {
  for (const auto& [key, value] : labels) {
    FUZZ_CHECK(!api::check_label_key(key), "label key " + printable(key) + " accepted from " + printable(body));
    FUZZ_CHECK(!api::check_label_value(value), "label value " + printable(value) + " accepted from " + printable(body));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  try {
    auto pushed = providers::push::parse_push_body(body);
    check_labels(pushed.labels, body);
    check_labels(pushed.metric_labels, body);
    const std::string text = pushed.value.to_string();
    auto again = api::Quantity::parse(text);
    FUZZ_CHECK(again && *again == pushed.value, "value " + printable(text) + " does not round-trip");
  } catch (const providers::MetricsError& e) {
    FUZZ_CHECK(e.kind() == providers::MetricsError::Kind::BadRequest,
               "MetricsError of kind " + std::to_string(static_cast<int>(e.kind())) + " for " + printable(body));
    FUZZ_CHECK(*e.what() != '\0', "empty MetricsError message");
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("unexpected exception: ") + e.what() + " for " + printable(body));
  }
  return 0;
}
