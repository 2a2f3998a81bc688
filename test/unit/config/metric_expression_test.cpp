#include <catch2/catch.hpp>

#include "lib/config/metric_expression.h"

using namespace sma;
using config::ExpressionError;
using config::ExpressionNode;
using config::MetricExpression;
using Kind = ExpressionNode::Kind;

namespace {

struct Failure {
  int line = 0;
  int column = 0;
  std::string message;
};

Failure failure_of(const std::string& text) {
  try {
    MetricExpression::parse(text);
  } catch (const ExpressionError& e) {
    return {e.line(), e.column(), e.what()};
  }
  return {0, 0, "parsed"};
}

}  // namespace

TEST_CASE("precedence: * and / bind tighter than + and -, both left to right") {
  auto e = MetricExpression::parse("a + b * c - d / e");
  CHECK(e.tree() ==
        "subtraction: a + b * c - d / e\n"
        "  addition: a + b * c\n"
        "    metric a\n"
        "    multiplication: b * c\n"
        "      metric b\n"
        "      metric c\n"
        "  division: d / e\n"
        "    metric d\n"
        "    metric e\n");
  CHECK(e.operands() == std::vector<std::string>{"a", "b", "c", "d", "e"});
}

TEST_CASE("parentheses, unary minus, numbers and functions") {
  auto e = MetricExpression::parse("-(a - 2.5e1) / max(kube_ready_pods, 1)");
  const auto& root = e.root();
  REQUIRE(root.kind == Kind::Divide);
  REQUIRE(root.args[0].kind == Kind::Negate);
  CHECK(e.text_of(root.args[0]) == "-(a - 2.5e1)");
  CHECK(root.args[0].args[0].args[1].number == 25);
  REQUIRE(root.args[1].kind == Kind::Max);
  CHECK(e.text_of(root.args[1]) == "max(kube_ready_pods, 1)");
  CHECK(root.args[1].args.size() == 2);
  CHECK(MetricExpression::parse("clamp(x, 0, 100)").root().kind == Kind::Clamp);
  CHECK(MetricExpression::parse("abs(x)").root().kind == Kind::Abs);
  CHECK(MetricExpression::parse("min(a, b, c)").root().args.size() == 3);
  CHECK(MetricExpression::parse("+x").root().kind == Kind::Operand);
  CHECK(MetricExpression::parse("--x").root().args[0].kind == Kind::Negate);
}

TEST_CASE("names are metric names: dots and colons, and function names without a call") {
  auto e = MetricExpression::parse("net.http.request.count / job:queue_ready:sum + max");
  CHECK(e.operands() == std::vector<std::string>{"net.http.request.count", "job:queue_ready:sum", "max"});
  CHECK(MetricExpression::parse("a*a + a").operands() == std::vector<std::string>{"a"});
  CHECK(MetricExpression::parse("\n  a /\n  b\n").operands().size() == 2);
}

TEST_CASE("parse errors say where: line and column within the expression") {
  struct Case {
    const char* text;
    int line;
    int column;
    const char* message;
  };
  for (const auto& c : {
           Case{"", 1, 1, "the expression is empty"},
           Case{"   ", 1, 4, "the expression is empty"},
           Case{"a +", 1, 4, "the expression ends where an operand"},
           Case{"a + * b", 1, 5, "expected an operand (a metric name, a number, a function or '(') but found '*'"},
           Case{"(a + b", 1, 7, "expected ')' to close the '(' at column 1 but found the end of the expression"},
           Case{"a b", 1, 3, "expected an operator or the end of the expression but found the name \"b\""},
           Case{"a)", 1, 2, "expected an operator or the end of the expression but found ')'"},
           Case{"sqrt(a)", 1, 1, "unknown function \"sqrt\" (the functions are min, max, abs and clamp)"},
           Case{"max(a)", 1, 1, "max takes at least 2 arguments, not 1"},
           Case{"clamp(a, 1)", 1, 1, "clamp takes 3 arguments, not 2"},
           Case{"abs(a, b)", 1, 1, "abs takes 1 argument, not 2"},
           Case{"a / .5", 1, 5, "a number starts with a digit: write 0.5"},
           Case{"2x", 1, 2, "a number is directly followed by 'x'"},
           Case{"1k * a", 1, 2, "numbers take no unit suffix"},
           Case{"1e999", 1, 1, "the number 1e999 is out of range"},
           Case{"a $ b", 1, 3, "found '$'"},
           Case{"a +\n  b +\n  \xff", 3, 3, "found \\xff"},
           Case{"max(a,)", 1, 7, "expected an operand"},
       }) {
    INFO(c.text);
    auto f = failure_of(c.text);
    CHECK(f.line == c.line);
    CHECK(f.column == c.column);
    CHECK_THAT(f.message, Catch::Contains(c.message));
  }
}

TEST_CASE("bounds: length and depth are limited, not the stack") {
  CHECK_THAT(failure_of(std::string(MetricExpression::kMaxLength + 1, 'a')).message,
             Catch::Contains("longer than 4096 characters"));
  CHECK_THAT(failure_of(std::string(2000, '(') + "a" + std::string(2000, ')')).message,
             Catch::Contains("nests deeper than 64 levels"));
  CHECK_THAT(failure_of(std::string(2000, '-') + "a").message, Catch::Contains("nests deeper than 64 levels"));
  std::string chain = "a";
  for (int i = 0; i < 100; ++i) chain += "+a";
  CHECK_THAT(failure_of(chain).message, Catch::Contains("nests deeper than 64 levels"));
  std::string fine(60, '(');
  fine += "a" + std::string(60, ')');
  CHECK(MetricExpression::parse(fine).operands().size() == 1);
}

TEST_CASE("a metric name that is too long is refused where it stands") {
  auto f = failure_of("1 + " + std::string(300, 'm'));
  CHECK(f.column == 5);
  CHECK_THAT(f.message, Catch::Contains("255"));
}
