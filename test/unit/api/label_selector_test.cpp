#include "lib/api/label_selector.h"

#include <catch2/catch.hpp>

#include <string>

using sma::api::LabelRequirement;
using sma::api::Labels;
using sma::api::LabelSelector;
using sma::api::SelectorError;
using Operator = sma::api::LabelRequirement::Operator;

namespace {

std::string error_of(std::string_view text) {
  try {
    const auto selector = LabelSelector::parse(text);
    FAIL("parsed \"" << text << "\" as \"" << selector.to_string() << "\"");
  } catch (const SelectorError& error) {
    return error.what();
  }
  return {};
}

}  // namespace

TEST_CASE("selectors parse to their canonical string form", "[selector]") {
  struct Case {
    const char* text;
    const char* canonical;
  };
  const Case cases[] = {
      {"", ""},
      {"   ", ""},
      {"a=b", "a=b"},
      {"a==b", "a==b"},
      {"a!=b", "a!=b"},
      {"a", "a"},
      {"!a", "!a"},
      {" ! a ", "!a"},
      {"a = b", "a=b"},
      {"\ta\n==\rb ", "a==b"},
      {"a=", "a="},
      {"a==", "a=="},
      {"a!=", "a!="},
      {"a=,b", "a=,b"},
      {"a in (x,y)", "a in (x,y)"},
      {"a in (y, x, x)", "a in (x,y)"},
      {"a in(x)", "a in (x)"},
      {"a notin (x)", "a notin (x)"},
      {"a notin ( x , y )", "a notin (x,y)"},
      {"a in ()", "a in ()"},
      {"a in (,x)", "a in (,x)"},
      {"a in (x,)", "a in (,x)"},
      {"a in (,)", "a in ()"},
      {"x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"},
      {"in in (in,notin)", "in in (in,notin)"},
      {"notin notin (in)", "notin notin (in)"},
      {"b=1,a=2", "a=2,b=1"},
      {"b,!a,c in (z)", "!a,b,c in (z)"},
      {"a=b,a=c", "a=b,a=c"},
      {"b=1,a=2,a=1", "a=2,a=1,b=1"},
      {"example.com/app=web", "example.com/app=web"},
      {"app.kubernetes.io/name in (kuard,nginx)", "app.kubernetes.io/name in (kuard,nginx)"},
      {"A_b.c-D=E.f-g_H", "A_b.c-D=E.f-g_H"},
      {"i notin (j),a=b,!e,g in (h),c!=d,f", "a=b,c!=d,!e,f,g in (h),i notin (j)"},
  };
  for (const auto& c : cases) {
    INFO("selector \"" << c.text << "\"");
    const auto selector = LabelSelector::parse(c.text);
    CHECK(selector.to_string() == c.canonical);
    CHECK(selector.empty() == (std::string(c.canonical).empty()));
    // The canonical form is itself a selector with the same meaning.
    CHECK(LabelSelector::parse(selector.to_string()).to_string() == c.canonical);
  }
}

TEST_CASE("requirements carry operator, key and sorted values", "[selector]") {
  const auto selector = LabelSelector::parse("z in (b,a,b),y=1,x==2,w!=3,v,!u,t notin (c)");
  const auto& r = selector.requirements();
  REQUIRE(r.size() == 7);
  CHECK((r[0].key == "t" && r[0].op == Operator::NotIn && r[0].values == std::vector<std::string>{"c"}));
  CHECK((r[1].key == "u" && r[1].op == Operator::DoesNotExist && r[1].values.empty()));
  CHECK((r[2].key == "v" && r[2].op == Operator::Exists && r[2].values.empty()));
  CHECK((r[3].key == "w" && r[3].op == Operator::NotEquals && r[3].values == std::vector<std::string>{"3"}));
  CHECK((r[4].key == "x" && r[4].op == Operator::DoubleEquals && r[4].values == std::vector<std::string>{"2"}));
  CHECK((r[5].key == "y" && r[5].op == Operator::Equals && r[5].values == std::vector<std::string>{"1"}));
  CHECK((r[6].key == "z" && r[6].op == Operator::In && r[6].values == std::vector<std::string>{"a", "b"}));

  const auto empty_value = LabelSelector::parse("a=");
  REQUIRE(empty_value.requirements().size() == 1);
  CHECK(empty_value.requirements()[0].values == std::vector<std::string>{""});
  const auto empty_set = LabelSelector::parse("a in ()");
  CHECK(empty_set.requirements()[0].values == std::vector<std::string>{""});
}

TEST_CASE("invalid selectors throw errors that say what is wrong and where", "[selector]") {
  struct Case {
    std::string text;
    std::vector<const char*> message_parts;
  };
  const Case cases[] = {
      {"a in (b", {"invalid label selector \"a in (b\"", "expected ',' or ')'", "the end of the selector"}},
      {"a in (x,y", {"expected ',' or ')'", "the end of the selector"}},
      {"a in (b c)", {"expected ',' or ')'", "\"c\" at character 9"}},
      {"a in (b=c)", {"expected ',' or ')'", "\"=\" at character 8"}},
      {"a in b", {"expected '('", "\"b\" at character 6"}},
      {"a notin", {"expected '('", "the end of the selector"}},
      {"a>1", {"'>' operator at character 2 is not supported", "=, ==, !=, in, notin"}},
      {"a<1", {"'<' operator at character 2 is not supported"}},
      {"a=b,", {"expected a requirement after ','", "the end of the selector"}},
      {"a,,b", {"expected a requirement after ','", "\",\" at character 3"}},
      {",a", {"expected a label key", "\",\" at character 1"}},
      {"=a", {"expected a label key", "\"=\" at character 1"}},
      {"!", {"expected a label key after '!'", "the end of the selector"}},
      {"!=a", {"expected a label key", "\"!=\" at character 1"}},
      {"a b", {"expected an operator", "\"b\" at character 3"}},
      {"a!b", {"expected an operator", "\"!\" at character 2"}},
      {"a=b c", {"expected ',' or the end of the selector", "\"c\" at character 5"}},
      {"a=b=c", {"expected ',' or the end of the selector", "\"=\" at character 4"}},
      {"a===b", {"expected a label value after '=='", "\"=\" at character 4"}},
      {"a=(b)", {"expected a label value after '='", "\"(\" at character 3"}},
      {"!a=b", {"\"!a\" (label absent) takes no operator or value", "\"=\" at character 3"}},
      {"-a=b", {"label key \"-a\" is invalid", "start and end with an alphanumeric"}},
      {"a/b/c=d", {"label key \"a/b/c\" is invalid"}},
      {"Example.com/a=b", {"label key \"Example.com/a\" is invalid", "prefix part"}},
      {"/a=b", {"prefix part must not be empty"}},
      {"a/=b", {"name part must not be empty"}},
      {"a=-b", {"label value \"-b\" is invalid", "(for label key \"a\")"}},
      {"a in (x,y_)", {"label value \"y_\" is invalid"}},
      {"a=\"b\"", {"label value \"\\\"b\\\"\" is invalid"}},
      {"a=b\x01", {"\\x01"}},
      {"a=" + std::string(64, 'v'), {"must be no more than 63 characters (it has 64)"}},
      {std::string(64, 'k') + "=v", {"name part must be no more than 63 characters (it has 64)"}},
  };
  for (const auto& c : cases) {
    INFO("selector \"" << c.text << "\"");
    const std::string message = error_of(c.text);
    INFO("message: " << message);
    for (const char* part : c.message_parts) CHECK(message.find(part) != std::string::npos);
  }
}

TEST_CASE("to_json mirrors metav1.ParseToLabelSelector", "[selector]") {
  struct Case {
    const char* text;
    const char* json;
  };
  const Case cases[] = {
      {"", "{}"},
      {"a=b", R"({"matchLabels":{"a":"b"}})"},
      {"a==b", R"({"matchLabels":{"a":"b"}})"},
      {"a=", R"({"matchLabels":{"a":""}})"},
      {"z=1,b=2", R"({"matchLabels":{"b":"2","z":"1"}})"},
      {"a!=b", R"({"matchExpressions":[{"key":"a","operator":"NotIn","values":["b"]}]})"},
      {"c in (y,x),a=b",
       R"({"matchLabels":{"a":"b"},"matchExpressions":[{"key":"c","operator":"In","values":["x","y"]}]})"},
      {"a,!b",
       R"({"matchExpressions":[{"key":"a","operator":"Exists"},{"key":"b","operator":"DoesNotExist"}]})"},
      {"a notin (x)", R"({"matchExpressions":[{"key":"a","operator":"NotIn","values":["x"]}]})"},
      {"a in ()", R"({"matchExpressions":[{"key":"a","operator":"In","values":[""]}]})"},
      {"a=b,a=c", R"({"matchLabels":{"a":"c"}})"},
      {"example.com/tier in (web),app=kuard,!canary",
       R"({"matchLabels":{"app":"kuard"},"matchExpressions":[{"key":"canary","operator":"DoesNotExist"},)"
       R"({"key":"example.com/tier","operator":"In","values":["web"]}]})"},
  };
  for (const auto& c : cases) {
    INFO("selector \"" << c.text << "\"");
    CHECK(LabelSelector::parse(c.text).to_json() == c.json);
  }
  CHECK(LabelSelector().to_json() == "{}");
}

TEST_CASE("matches follows Kubernetes semantics", "[selector]") {
  struct Case {
    const char* selector;
    Labels labels;
    bool matches;
  };
  const Case cases[] = {
      {"", {}, true},
      {"", {{"a", "b"}}, true},
      {"a=b", {{"a", "b"}}, true},
      {"a=b", {{"a", "c"}}, false},
      {"a=b", {}, false},
      {"a==b", {{"a", "b"}, {"x", "y"}}, true},
      {"a!=b", {}, true},
      {"a!=b", {{"a", "c"}}, true},
      {"a!=b", {{"a", "b"}}, false},
      {"a in (x,y)", {{"a", "x"}}, true},
      {"a in (x,y)", {{"a", "y"}}, true},
      {"a in (x,y)", {{"a", "z"}}, false},
      {"a in (x,y)", {}, false},
      {"a notin (x)", {}, true},
      {"a notin (x)", {{"a", "x"}}, false},
      {"a notin (x)", {{"a", "y"}}, true},
      {"a", {{"a", ""}}, true},
      {"a", {}, false},
      {"!a", {}, true},
      {"!a", {{"a", "x"}}, false},
      {"a=", {{"a", ""}}, true},
      {"a=", {{"a", "x"}}, false},
      {"a=", {}, false},
      {"a in ()", {{"a", ""}}, true},
      {"a in ()", {}, false},
      {"a=b,c", {{"a", "b"}, {"c", "d"}}, true},
      {"a=b,c", {{"a", "b"}}, false},
      {"a=b,a=c", {{"a", "b"}}, false},
      {"a=b,a=c", {{"a", "c"}}, false},
      {"a=b,!c,d notin (e)", {{"a", "b"}, {"d", "f"}}, true},
      {"a=b,!c,d notin (e)", {{"a", "b"}, {"c", "x"}}, false},
  };
  for (const auto& c : cases) {
    INFO("selector \"" << c.selector << "\"");
    CHECK(LabelSelector::parse(c.selector).matches(c.labels) == c.matches);
  }
  CHECK(LabelSelector().matches({{"anything", "at-all"}}));
}

TEST_CASE("a single requirement matches on its own", "[selector]") {
  LabelRequirement requirement;
  requirement.key = "tier";
  requirement.op = Operator::In;
  requirement.values = {"backend", "web"};
  CHECK(requirement.matches({{"tier", "web"}}));
  CHECK_FALSE(requirement.matches({{"tier", "db"}}));
  requirement.op = Operator::NotIn;
  CHECK(requirement.matches({{"tier", "db"}}));
  CHECK(requirement.matches({}));
  requirement.op = Operator::DoesNotExist;
  requirement.values.clear();
  CHECK(requirement.matches({{"other", "x"}}));
  CHECK_FALSE(requirement.matches({{"tier", "x"}}));
}
