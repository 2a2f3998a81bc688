#include "providers/promql/promql_builder.h"

#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>
#include <string>

using sma::api::LabelSelector;
using sma::providers::promql::duration;
using sma::providers::promql::Matcher;
using sma::providers::promql::matchers_from_selector;
using sma::providers::promql::quote;
using sma::providers::promql::regex_alternation;
using sma::providers::promql::regex_literal;
using sma::providers::promql::selector;

namespace {

void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// Reads a PromQL double-quoted literal the way Prometheus' lexer (Go's strconv rules) and the test
// double do: the Go escapes, no raw newline, no unescaped quote. nullopt when it is not a literal.
std::optional<std::string> unquote(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') return std::nullopt;
  std::string_view body = literal.substr(1, literal.size() - 2);
  auto hex_value = [](std::string_view digits) -> std::optional<unsigned long> {
    unsigned long value = 0;
    for (char c : digits) {
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) return std::nullopt;
      value = value * 16 + static_cast<unsigned long>(d);
    }
    return value;
  };
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '"' || c == '\n') return std::nullopt;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= body.size()) return std::nullopt;
    char e = body[i];
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case 'x':
      case 'u':
      case 'U': {
        std::size_t width = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + width >= body.size()) return std::nullopt;
        auto value = hex_value(body.substr(i + 1, width));
        if (!value) return std::nullopt;
        if (e == 'x') {
          out += static_cast<char>(*value);  // a byte, as Go reads \x in a double-quoted string
        } else {
          if (*value > 0x10FFFF || (*value >= 0xD800 && *value <= 0xDFFF)) return std::nullopt;
          append_utf8(out, *value);
        }
        i += width;
        break;
      }
      default: {
        // \ooo: three octal digits, at most 255
        if (e < '0' || e > '7' || i + 2 >= body.size()) return std::nullopt;
        unsigned value = 0;
        for (std::size_t k = i; k < i + 3; ++k) {
          if (body[k] < '0' || body[k] > '7') return std::nullopt;
          value = value * 8 + static_cast<unsigned>(body[k] - '0');
        }
        if (value > 255) return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
      }
    }
  }
  return out;
}

// Reads a regex that must match one literal string only: every metacharacter escaped, no other
// escape. nullopt when some part of it is an operator.
std::optional<std::string> literal_of_regex(std::string_view regex) {
  static constexpr std::string_view kMeta = "\\.+*?()|[]{}^$";
  std::string out;
  for (std::size_t i = 0; i < regex.size(); ++i) {
    char c = regex[i];
    if (c == '\\') {
      if (++i >= regex.size() || kMeta.find(regex[i]) == std::string_view::npos) return std::nullopt;
      out += regex[i];
    } else if (kMeta.find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
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

std::string selector_text(std::string_view kubernetes_selector) {
  return selector("m", matchers_from_selector(LabelSelector::parse(kubernetes_selector)));
}

std::string every_ascii_byte() {
  std::string text;
  for (int c = 1; c < 128; ++c) text += static_cast<char>(c);
  return text;
}

}  // namespace

TEST_CASE("quote escapes exactly what PromQL needs", "[promql][quote]") {
  struct Case {
    std::string text;
    std::string literal;
  };
  const Case cases[] = {
      {"", R"("")"},
      {"default", R"("default")"},
      {R"(a"b)", R"("a\"b")"},
      {R"(a\b)", R"("a\\b")"},
      {R"(\")", R"("\\\"")"},
      {"}", R"("}")"},
      {"a\nb", R"("a\nb")"},
      {"\r\t", R"("\r\t")"},
      {"\x01\x1f\x7f", R"("\x01\x1f\x7f")"},
      {std::string("a\0b", 3), R"("a\x00b")"},
      {"'", R"("'")"},
      {"`", R"("`")"},
      {"é日本🙂", "\"é日本🙂\""},
      {"or", R"("or")"},
      {"=~", R"("=~")"},
      {R"(a.b)", R"("a.b")"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CHECK(quote(c.text) == c.literal);
  }
}

TEST_CASE("quoted literals read back as the same text", "[promql][quote]") {
  const std::string cases[] = {
      "",
      "plain",
      R"(a"b)",
      R"(a\b)",
      R"(\\"\")",
      R"("} or vector(1) #)",
      R"(x"} or on() up{a=")",
      "line\nbreak\r\n",
      every_ascii_byte(),
      std::string("nul\0inside", 10),
      "é日本🙂\u2028",
      "or",
      "=~\".*\"",
      "\\x41\\u0041\\101",  // escape-looking text stays text
      std::string(100000, '"') + std::string(100000, '\\'),
  };
  for (const auto& text : cases) {
    CAPTURE(text.substr(0, 80));
    const std::string literal = quote(text);
    CHECK(literal.find('\n') == std::string::npos);
    auto back = unquote(literal);
    REQUIRE(back.has_value());
    CHECK(*back == text);
  }
}

TEST_CASE("quote refuses invalid UTF-8", "[promql][quote]") {
  const std::string cases[] = {
      "\xff",
      "a\x80",
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong '/'
      "\xed\xa0\x80",      // UTF-16 surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xe2\x82",          // cut short
      "ok\xf0\x9f\x99",    // cut short at the end
  };
  for (const auto& text : cases) {
    CAPTURE(text);
    CHECK(invalid_argument_of([&] { quote(text); }).find("UTF-8") != std::string::npos);
  }
}

TEST_CASE("regex_literal escapes every metacharacter and nothing else", "[promql][regex]") {
  CHECK(regex_literal("a.b") == R"(a\.b)");
  CHECK(quote(regex_literal("a.b")) == R"("a\\.b")");
  CHECK(regex_literal(R"(\.+*?()|[]{}^$)") == R"(\\\.\+\*\?\(\)\|\[\]\{\}\^\$)");
  CHECK(regex_literal("kuard-7d4f_1/x:y é") == "kuard-7d4f_1/x:y é");
  CHECK(regex_literal("") == "");

  const std::string cases[] = {"a.b", ".*", "a|b", "(x)", "[a-z]+", "{1,2}", "^start$", R"(back\slash)",
                               R"(q"uote)", every_ascii_byte(), "é.日本"};
  for (const auto& text : cases) {
    CAPTURE(text);
    auto literal = literal_of_regex(regex_literal(text));
    REQUIRE(literal.has_value());
    CHECK(*literal == text);
    // ...and through the PromQL string on top.
    auto regex = unquote(quote(regex_literal(text)));
    REQUIRE(regex.has_value());
    CHECK(literal_of_regex(*regex) == text);
  }
}

TEST_CASE("regex_alternation joins escaped values", "[promql][regex]") {
  CHECK(regex_alternation({"a"}) == "a");
  CHECK(regex_alternation({"kuard-1", "kuard.2", "a|b"}) == R"(kuard-1|kuard\.2|a\|b)");
  CHECK(regex_alternation({""}) == "");
  CHECK(regex_alternation({"", "a"}) == "|a");
  CHECK(invalid_argument_of([] { regex_alternation({}); }).find("at least one") != std::string::npos);
}

TEST_CASE("selector writes metric{matchers}", "[promql][selector]") {
  CHECK(selector("metric", {}) == "metric");
  CHECK(selector("metric", {{"a", Matcher::Op::Equal, "b"}, {"c", Matcher::Op::RegexMatch, "d"}}) ==
        R"(metric{a="b",c=~"d"})");
  CHECK(selector("job:rate5m", {{"x", Matcher::Op::NotEqual, ""}, {"y", Matcher::Op::RegexNoMatch, "a|b"}}) ==
        R"(job:rate5m{x!="",y!~"a|b"})");
  CHECK(selector("sysdig_container_net_http_request_count",
                 {{"kube_namespace_name", Matcher::Op::Equal, "default"},
                  {"kube_pod_name", Matcher::Op::RegexMatch, regex_alternation({"kuard-7d4f-1", "kuard.2"})}}) ==
        R"(sysdig_container_net_http_request_count{kube_namespace_name="default",kube_pod_name=~"kuard-7d4f-1|kuard\\.2"})");
  CHECK(selector("_m", {{"_l", Matcher::Op::Equal, R"("} or vector(1) #)"}}) == R"(_m{_l="\"} or vector(1) #"})");
}

TEST_CASE("selector refuses names that are not PromQL names", "[promql][selector]") {
  for (std::string metric : {"", "net.http.request.count", "1abc", "a-b", "a b", "a{", "é"}) {
    CAPTURE(metric);
    CHECK(invalid_argument_of([&] { selector(metric, {}); }).find("not a valid PromQL metric name") !=
          std::string::npos);
  }
  for (std::string label : {"", "a.b", "a:b", "1a", "a-b", "a=\"x\",b"}) {
    CAPTURE(label);
    CHECK(invalid_argument_of([&] { selector("m", {{label, Matcher::Op::Equal, "v"}}); })
              .find("not a valid Prometheus label name") != std::string::npos);
  }
}

TEST_CASE("Kubernetes selectors become equivalent matchers", "[promql][selector]") {
  struct Case {
    const char* kubernetes;
    const char* promql;
  };
  const Case cases[] = {
      {"", "m"},
      {"a=b", R"(m{a="b"})"},
      {"a==b", R"(m{a="b"})"},
      {"a!=b", R"(m{a!="b"})"},
      {"a=", R"(m{a=""})"},
      {"env in (prod,staging)", R"(m{env=~"prod|staging"})"},
      {"env in (staging,prod)", R"(m{env=~"prod|staging"})"},  // sorted as the selector sorts them
      {"env in (a.b)", R"(m{env=~"a\\.b"})"},
      {"env notin (a.b,c-d)", R"(m{env!~"a\\.b|c-d"})"},
      {"env in ()", R"(m{env=~""})"},
      {"tier", R"(m{tier!=""})"},
      {"!tier", R"(m{tier=""})"},
      {"z=1,a in (x),m_m!=y,!q", R"(m{a=~"x",m_m!="y",q="",z="1"})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.kubernetes);
    CHECK(selector_text(c.kubernetes) == c.promql);
  }
}

TEST_CASE("Kubernetes keys that are not Prometheus label names are refused", "[promql][selector]") {
  struct Case {
    const char* selector;
    const char* key;
  };
  const Case cases[] = {{"app.kubernetes.io/name=kuard", "app.kubernetes.io/name"},
                        {"app-name=x", "app-name"},
                        {"example.com/tier", "example.com/tier"},
                        {"1app in (a)", "1app"}};
  for (const auto& c : cases) {
    CAPTURE(c.selector);
    auto message = invalid_argument_of([&] { matchers_from_selector(LabelSelector::parse(c.selector)); });
    CHECK(message.find("cannot be used as a Prometheus label") != std::string::npos);
    CHECK(message.find(std::string("'") + c.key + "'") != std::string::npos);
  }
}

TEST_CASE("duration writes whole seconds in h/m/s", "[promql][duration]") {
  struct Case {
    long long seconds;
    const char* text;
  };
  const Case cases[] = {{1, "1s"},     {30, "30s"},    {59, "59s"},   {60, "1m"},       {90, "1m30s"},
                        {600, "10m"},  {3600, "1h"},   {3601, "1h1s"}, {5400, "1h30m"}, {5430, "1h30m30s"},
                        {86400, "24h"}};
  for (const auto& c : cases) {
    CAPTURE(c.seconds);
    CHECK(duration(c.seconds) == c.text);
  }
  CHECK(invalid_argument_of([] { duration(0); }).find("at least 1s") != std::string::npos);
  CHECK_THROWS_AS(duration(-5), std::invalid_argument);
}
