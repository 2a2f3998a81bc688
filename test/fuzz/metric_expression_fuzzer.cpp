// MetricExpression::parse (a computed metric's expr) on arbitrary text, then evaluation. Properties:
// only ExpressionError escapes the parser, with a line and column that match its offset; an
// accepted expression has valid, distinct operand names, nodes whose text lies inside their
// parent's, a tree no deeper than kMaxDepth, and parses again from its own text to the same tree;
// evaluating it with any operand values gives a finite number or throws EvaluationError, nothing else.
#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <optional>
#include <set>

#include "lib/api/names.h"
#include "lib/config/metric_expression.h"
#include "providers/computed/expression_evaluation.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;
using Node = config::ExpressionNode;

void check_error(const config::ExpressionError& e, std::string_view text) {
  FUZZ_CHECK(e.offset() <= text.size(), "offset past the text for " + printable(text));
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < e.offset(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  FUZZ_CHECK(e.line() == line && e.column() == column,
             "line/column " + std::to_string(e.line()) + ":" + std::to_string(e.column()) + " do not match offset " +
                 std::to_string(e.offset()) + " of " + printable(text));
  FUZZ_CHECK(std::string_view(e.what()).size() > 0, "an empty message for " + printable(text));
}

int check_node(const Node& node, std::size_t begin, std::size_t end, std::string_view text) {
  FUZZ_CHECK(begin <= node.begin && node.begin < node.end && node.end <= end,
             "a node outside its parent in " + printable(text));
  if (node.kind == Node::Kind::Operand) {
    FUZZ_CHECK(!api::check_metric_name(node.name), "operand " + printable(node.name) + " is not a metric name");
  }
  int depth = 0;
  for (const auto& arg : node.args) depth = std::max(depth, check_node(arg, node.begin, node.end, text));
  return depth + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  std::optional<config::MetricExpression> e;
  try {
    e = config::MetricExpression::parse(text);
  } catch (const config::ExpressionError& error) {
    check_error(error, text);
    return 0;
  } catch (const std::exception& error) {
    FUZZ_CHECK(false, std::string("unexpected exception ") + error.what() + " for " + printable(text));
  }
  FUZZ_CHECK(check_node(e->root(), 0, text.size(), text) <= config::MetricExpression::kMaxDepth,
             "a tree deeper than the bound: " + printable(text));
  std::set<std::string> distinct(e->operands().begin(), e->operands().end());
  FUZZ_CHECK(distinct.size() == e->operands().size(), "an operand listed twice for " + printable(text));
  const std::string tree = e->tree();
  FUZZ_CHECK(!tree.empty() && tree.back() == '\n', "no tree for " + printable(text));
  // The text of the root node is a whole expression: it parses to the same tree.
  try {
    auto again = config::MetricExpression::parse(e->text_of(e->root()));
    FUZZ_CHECK(again.tree() == tree, "the root's text parses to another tree: " + printable(text));
  } catch (const config::ExpressionError& error) {
    FUZZ_CHECK(false, std::string("the root's text does not parse: ") + error.what() + " for " + printable(text));
  }
  for (double value : {0.0, 1.0, -2.5, 1e308}) {
    std::map<std::string, double> operands;
    for (const auto& name : e->operands()) operands[name] = value;
    try {
      double result = providers::computed::evaluate(*e, operands);
      FUZZ_CHECK(std::isfinite(result), "a result that is not finite for " + printable(text));
    } catch (const providers::computed::EvaluationError&) {
    } catch (const std::exception& error) {
      FUZZ_CHECK(false, std::string("evaluation threw ") + error.what() + " for " + printable(text));
    }
  }
  return 0;
}
