#include "lib/kube/interned_labels.h"

#include <catch2/catch.hpp>

using sma::api::LabelSelector;
using sma::kube::InternedLabels;
using sma::kube::label_value;
using sma::kube::LabelInterner;

namespace {

bool selects(const LabelSelector& selector, const InternedLabels& labels) {
  return selector.matches([&](const std::string& key) { return label_value(labels, key); });
}

}  // namespace

TEST_CASE("interned labels keep every key and value, and share equal strings", "[interned_labels]") {
  LabelInterner interner;
  const auto a = interner.intern({{"app", "web"}, {"pod-template-hash", "7d4f"}, {"tier", "frontend"}});
  const auto b = interner.intern({{"app", "web"}, {"pod-template-hash", "8e5a"}});
  CHECK(interner.size() == 7);  // app, web, pod-template-hash, 7d4f, tier, frontend, 8e5a: each once
  REQUIRE(label_value(a, "tier") != nullptr);
  CHECK(*label_value(a, "tier") == "frontend");
  CHECK(label_value(b, "tier") == nullptr);
  CHECK(label_value(a, "app") == label_value(b, "app"));  // one string
  CHECK(label_value(a, "") == nullptr);
  CHECK(label_value({}, "app") == nullptr);

  LabelInterner fresh;
  const auto copied = fresh.intern(a);
  CHECK(*label_value(copied, "pod-template-hash") == "7d4f");
  CHECK(label_value(copied, "app") != label_value(a, "app"));
}

TEST_CASE("selectors match interned labels as they match a label map", "[interned_labels]") {
  LabelInterner interner;
  const sma::api::Labels plain = {{"app", "web"}, {"tier", "frontend"}};
  const auto labels = interner.intern(plain);
  for (const char* text : {"app=web", "app!=web", "app in (db,web)", "app notin (web)", "tier", "!tier", "!missing",
                           "missing", "app=web,tier=frontend", "app=web,tier=backend", ""}) {
    INFO(text);
    const auto selector = LabelSelector::parse(text);
    CHECK(selects(selector, labels) == selector.matches(plain));
  }
}
