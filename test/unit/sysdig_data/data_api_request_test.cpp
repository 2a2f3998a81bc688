#include "providers/sysdig_data/data_api_request.h"

#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>
#include <string>

using sma::api::LabelSelector;
using sma::providers::sysdig_data::clauses_from_selector;
using sma::providers::sysdig_data::data_api_body;
using sma::providers::sysdig_data::DataApiQuery;
using sma::providers::sysdig_data::filter_text;
using sma::providers::sysdig_data::FilterClause;
using sma::providers::sysdig_data::quote_filter_value;
using Op = sma::providers::sysdig_data::FilterClause::Op;

namespace {

// A reader of the filter subset the Sysdig test double accepts (test/doubles/README.md): clauses
// joined by "and"; label = 's', label != 's', label in (s, ...), label not in (s, ...); single
// quoted strings whose only escapes are \' and \\. Labels are words as the double reads them,
// [A-Za-z_][A-Za-z0-9_.:]*. nullopt for anything else.
class DoubleFilterReader {
 public:
  explicit DoubleFilterReader(std::string_view text) : text_(text) {}

  std::optional<std::vector<FilterClause>> read() {
    std::vector<FilterClause> clauses;
    skip_blanks();
    if (at_end()) return clauses;
    do {
      auto clause = read_clause();
      if (!clause) return std::nullopt;
      clauses.push_back(std::move(*clause));
    } while (read_keyword("and"));
    skip_blanks();
    if (!at_end()) return std::nullopt;
    return clauses;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_blanks() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n')) ++pos_;
  }
  static bool word_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool word_char(char c) { return word_start(c) || (c >= '0' && c <= '9') || c == '.' || c == ':'; }

  std::optional<std::string> read_word() {
    skip_blanks();
    if (at_end() || !word_start(text_[pos_])) return std::nullopt;
    std::size_t start = pos_;
    while (!at_end() && word_char(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
  }

  bool read_keyword(const char* keyword) {
    std::size_t saved = pos_;
    auto word = read_word();
    if (word && lower(*word) == keyword) return true;
    pos_ = saved;
    return false;
  }

  bool read_symbol(std::string_view symbol) {
    skip_blanks();
    if (text_.substr(pos_, symbol.size()) != symbol) return false;
    pos_ += symbol.size();
    return true;
  }

  std::optional<std::string> read_string() {
    skip_blanks();
    if (at_end() || text_[pos_] != '\'') return std::nullopt;
    std::string value;
    for (++pos_; !at_end(); ++pos_) {
      char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        return value;
      }
      if (c == '\\') {
        if (pos_ + 1 >= text_.size() || (text_[pos_ + 1] != '\'' && text_[pos_ + 1] != '\\')) return std::nullopt;
        c = text_[++pos_];
      }
      value += c;
    }
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> read_list() {
    if (!read_symbol("(")) return std::nullopt;
    std::vector<std::string> values;
    do {
      auto value = read_string();
      if (!value) return std::nullopt;
      values.push_back(std::move(*value));
    } while (read_symbol(","));
    if (!read_symbol(")")) return std::nullopt;
    return values;
  }

  std::optional<FilterClause> read_clause() {
    auto label = read_word();
    if (!label) return std::nullopt;
    for (const char* keyword : {"and", "or", "not", "in"}) {
      if (lower(*label) == keyword) return std::nullopt;
    }
    FilterClause clause{*label, Op::Equal, {}};
    bool not_equal = read_symbol("!=");
    if (not_equal || read_symbol("=")) {
      clause.op = not_equal ? Op::NotEqual : Op::Equal;
      auto value = read_string();
      if (!value) return std::nullopt;
      clause.values = {*value};
      return clause;
    }
    clause.op = read_keyword("not") ? Op::NotIn : Op::In;
    if (!read_keyword("in")) return std::nullopt;
    auto values = read_list();
    if (!values) return std::nullopt;
    clause.values = std::move(*values);
    return clause;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::optional<std::vector<FilterClause>> read_filter(std::string_view text) { return DoubleFilterReader(text).read(); }

bool same_clauses(const std::vector<FilterClause>& a, const std::vector<FilterClause>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].label != b[i].label || a[i].op != b[i].op || a[i].values != b[i].values) return false;
  }
  return true;
}

std::string invalid_argument_of(auto&& call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("no std::invalid_argument was thrown");
  return {};
}

DataApiQuery pod_query() {
  DataApiQuery q;
  q.metric_id = "net.http.request.count";
  q.segment_by = {"kubernetes.pod.name"};
  q.filter = {{"kubernetes.cluster.name", Op::Equal, {"prod"}}, {"kubernetes.namespace.name", Op::Equal, {"default"}}};
  q.last_seconds = 60;
  q.sampling_seconds = 60;
  q.paging_to = 99;
  return q;
}

}  // namespace

TEST_CASE("filter values are single-quoted with backslash escapes", "[sysdig_data][filter]") {
  struct Case {
    std::string value;
    std::string quoted;
  };
  const Case cases[] = {
      {"default", "'default'"},
      {"", "''"},
      {"it's", R"('it\'s')"},
      {R"(a\b)", R"('a\\b')"},
      {R"(\')", R"('\\\'')"},
      {R"(a"b)", R"('a"b')"},
      {"x' or kubernetes.namespace.name != '", R"('x\' or kubernetes.namespace.name != \'')"},
      {"é日本", "'é日本'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(quote_filter_value(c.value) == c.quoted);
  }
  for (std::string bad : {"\xff", "a\xc0\xaf", "\xed\xa0\x80"}) {
    CHECK_THAT(invalid_argument_of([&] { quote_filter_value(bad); }), Catch::Contains("UTF-8"));
  }
}

TEST_CASE("filter_text writes clauses joined with and", "[sysdig_data][filter]") {
  CHECK(filter_text({}) == "");
  CHECK(filter_text({{"kubernetes.namespace.name", Op::Equal, {"default"}}}) == "kubernetes.namespace.name = 'default'");
  CHECK(filter_text({{"x", Op::NotEqual, {"y"}}}) == "x != 'y'");
  CHECK(filter_text({{"x", Op::In, {"a", "b"}}}) == "x in ('a', 'b')");
  CHECK(filter_text({{"x", Op::NotIn, {"a"}}}) == "x not in ('a')");
  CHECK(filter_text({{"kubernetes.cluster.name", Op::Equal, {"prod"}},
                     {"kubernetes.namespace.name", Op::Equal, {"default"}},
                     {"kubernetes.pod.name", Op::In, {"kuard-1", "it's"}}}) ==
        R"(kubernetes.cluster.name = 'prod' and kubernetes.namespace.name = 'default' and kubernetes.pod.name in ('kuard-1', 'it\'s'))");
  // Identifiers are dotted words; '-' and '/' are not part of the filter language's identifiers.
  CHECK(filter_text({{"agent.tag.team", Op::In, {""}}}) == "agent.tag.team in ('')");
  CHECK_THROWS_AS(filter_text({{"kubernetes.pod.label.app.kubernetes.io/name", Op::Equal, {"kuard"}}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(filter_text({{"my-tag", Op::In, {""}}}), std::invalid_argument);
}

TEST_CASE("filters read back identically under the test double's grammar", "[sysdig_data][filter]") {
  std::string every_ascii;
  for (int c = 1; c < 128; ++c) every_ascii += static_cast<char>(c);
  const std::vector<std::vector<FilterClause>> cases = {
      {},
      {{"kubernetes.namespace.name", Op::Equal, {"default"}}},
      {{"a", Op::NotEqual, {""}}},
      {{"a", Op::In, {"x", "y", "z"}}, {"b_b", Op::NotIn, {"q"}}},
      {{"a", Op::Equal, {"it's"}}, {"b", Op::Equal, {R"(back\slash)"}}, {"c", Op::Equal, {R"(\'\\'')"}}},
      {{"a", Op::Equal, {"' and b = 'x"}}, {"c", Op::In, {"') or (d in ('", "and"}}},
      {{"a", Op::Equal, {every_ascii}}, {"b", Op::NotIn, {"é日本🙂", "\n"}}},
      {{"kubernetes.pod.name", Op::Equal, {std::string(20000, '\'') + std::string(20000, '\\')}}},
      {{"_x", Op::Equal, {"or"}}, {"AnD_1", Op::Equal, {"not"}}},
  };
  for (const auto& clauses : cases) {
    const std::string text = filter_text(clauses);
    CAPTURE(text.substr(0, 200));
    auto back = read_filter(text);
    REQUIRE(back.has_value());
    CHECK(same_clauses(*back, clauses));
  }
}

TEST_CASE("filter_text refuses labels and clauses it cannot write safely", "[sysdig_data][filter]") {
  for (std::string label : {"", "1abc", "a b", "a'b", "a=b", "a(b)", "-a", "/a", ".a", "a:b", "and", "OR", "Not", "in",
                            "é"}) {
    CAPTURE(label);
    CHECK_THROWS_AS(filter_text({{label, Op::Equal, {"v"}}}), std::invalid_argument);
  }
  CHECK_THAT(invalid_argument_of([] { filter_text({{"a b", Op::Equal, {"v"}}}); }),
             Catch::Contains("'a b' cannot be used as a Sysdig label"));
  CHECK_THAT(invalid_argument_of([] { filter_text({{"x", Op::In, {}}}); }), Catch::Contains("empty value set"));
  CHECK_THAT(invalid_argument_of([] { filter_text({{"x", Op::NotIn, {}}}); }), Catch::Contains("empty value set"));
  CHECK_THAT(invalid_argument_of([] { filter_text({{"x", Op::Equal, {"a", "b"}}}); }),
             Catch::Contains("exactly one value"));
  CHECK_THAT(invalid_argument_of([] { filter_text({{"x", Op::NotEqual, {}}}); }), Catch::Contains("exactly one value"));
}

TEST_CASE("data_api_body writes the documented JSON", "[sysdig_data][body]") {
  CHECK(data_api_body(pod_query()) ==
        R"({"metrics":[{"id":"kubernetes.pod.name"},{"id":"net.http.request.count","aggregations":{"time":"timeAvg","group":"sum"}}],)"
        R"("dataSourceType":"container","filter":"kubernetes.cluster.name = 'prod' and kubernetes.namespace.name = 'default'",)"
        R"("last":60,"sampling":60,"paging":{"from":0,"to":99}})");

  DataApiQuery plain;
  plain.metric_id = "cpu.cores.used";
  plain.time_aggregation = "max";
  plain.group_aggregation = "avg";
  CHECK(data_api_body(plain) ==
        R"({"metrics":[{"id":"cpu.cores.used","aggregations":{"time":"max","group":"avg"}}],)"
        R"("dataSourceType":"container","last":10,"sampling":10})");

  DataApiQuery two_keys = pod_query();
  two_keys.segment_by = {"kubernetes.namespace.name", "kubernetes.pod.name"};
  two_keys.filter = {{"x", Op::Equal, {R"(a"b\c)"}}};
  two_keys.paging_to.reset();
  two_keys.data_source_type = "host";
  two_keys.last_seconds = 600;
  two_keys.sampling_seconds = 1;
  CHECK(data_api_body(two_keys) ==
        R"({"metrics":[{"id":"kubernetes.namespace.name"},{"id":"kubernetes.pod.name"},)"
        R"({"id":"net.http.request.count","aggregations":{"time":"timeAvg","group":"sum"}}],)"
        R"("dataSourceType":"host","filter":"x = 'a\"b\\\\c'","last":600,"sampling":1})");
}

TEST_CASE("data_api_body refuses queries Sysdig would refuse", "[sysdig_data][body]") {
  struct Case {
    void (*change)(DataApiQuery&);
    const char* message;
  };
  const Case cases[] = {
      {[](DataApiQuery& q) { q.metric_id.clear(); }, "needs a metric id"},
      {[](DataApiQuery& q) { q.data_source_type.clear(); }, "needs a data source type"},
      {[](DataApiQuery& q) { q.last_seconds = 0; }, "must be positive"},
      {[](DataApiQuery& q) { q.sampling_seconds = -10; }, "must be positive"},
      {[](DataApiQuery& q) { q.last_seconds = 601, q.sampling_seconds = 1; }, "at most 600 samples, not 601"},
      {[](DataApiQuery& q) { q.last_seconds = 6001, q.sampling_seconds = 10; }, "at most 600 samples, not 601"},
      {[](DataApiQuery& q) { q.time_aggregation = "avg"; }, "'avg' is not a Data API time aggregation"},
      {[](DataApiQuery& q) { q.time_aggregation = ""; }, "is not a Data API time aggregation"},
      {[](DataApiQuery& q) { q.group_aggregation = "timeAvg"; }, "'timeAvg' is not a Data API group aggregation"},
      {[](DataApiQuery& q) { q.paging_to = -1; }, "non-negative"},
      {[](DataApiQuery& q) { q.segment_by = {"kubernetes pod"}; }, "cannot be used as a Sysdig label"},
      {[](DataApiQuery& q) { q.filter.push_back({"x", Op::In, {}}); }, "empty value set"},
      {[](DataApiQuery& q) { q.filter.push_back({"x", Op::Equal, {"\xff"}}); }, "UTF-8"},
      {[](DataApiQuery& q) { q.metric_id = "bad\xff"; }, "UTF-8"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    DataApiQuery q = pod_query();
    c.change(q);
    CHECK_THAT(invalid_argument_of([&] { data_api_body(q); }), Catch::Contains(c.message));
  }
  // The limits themselves are allowed.
  DataApiQuery edge = pod_query();
  edge.last_seconds = 6000;
  edge.sampling_seconds = 10;
  edge.paging_to = 0;
  CHECK_NOTHROW(data_api_body(edge));
  for (const char* t : {"timeAvg", "sum", "max", "min"}) {
    for (const char* g : {"sum", "avg", "max", "min"}) {
      edge.time_aggregation = t;
      edge.group_aggregation = g;
      CHECK_NOTHROW(data_api_body(edge));
    }
  }
}

TEST_CASE("Kubernetes selectors become Data API clauses", "[sysdig_data][selector]") {
  auto clauses = clauses_from_selector(LabelSelector::parse("a=b,c==d,e!=f,g in (y,x),h notin (z),i in ()"));
  const std::vector<FilterClause> expected = {{"a", Op::Equal, {"b"}},     {"c", Op::Equal, {"d"}},
                                              {"e", Op::NotEqual, {"f"}},  {"g", Op::In, {"x", "y"}},
                                              {"h", Op::NotIn, {"z"}},     {"i", Op::In, {""}}};
  CHECK(same_clauses(clauses, expected));
  CHECK(filter_text(clauses) == "a = 'b' and c = 'd' and e != 'f' and g in ('x', 'y') and h not in ('z') and i in ('')");
  CHECK(clauses_from_selector(LabelSelector()).empty());
  // A Kubernetes label key with '/' is no Sysdig label id.
  CHECK_THROWS_AS(clauses_from_selector(LabelSelector::parse("app.kubernetes.io/name=kuard")), std::invalid_argument);

  CHECK_THAT(invalid_argument_of([] { clauses_from_selector(LabelSelector::parse("tier")); }),
             Catch::Contains("tier (label exists or not) cannot be expressed in a Data API filter"));
  CHECK_THAT(invalid_argument_of([] { clauses_from_selector(LabelSelector::parse("a=b,!tier")); }),
             Catch::Contains("!tier (label exists or not) cannot be expressed in a Data API filter"));
  CHECK_THAT(invalid_argument_of([] { clauses_from_selector(LabelSelector::parse("1app=x")); }),
             Catch::Contains("'1app' cannot be used as a Sysdig label"));
}
