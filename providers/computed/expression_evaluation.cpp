#include "providers/computed/expression_evaluation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace sma::providers::computed {
namespace {

using Kind = config::ExpressionNode::Kind;

std::string number_text(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc() ? std::string(buffer, end) : std::string("?");
}

class Evaluator {
 public:
  Evaluator(const config::MetricExpression& expression, const std::map<std::string, double>& operands)
      : expression_(expression), operands_(operands) {}

  // The parser bounds the tree's depth (MetricExpression::kMaxDepth), so this recursion is bounded.
  double value(const config::ExpressionNode& node) const {
    switch (node.kind) {
      case Kind::Number: return node.number;
      case Kind::Operand: return operands_.at(node.name);
      case Kind::Negate: return -value(node.args[0]);
      case Kind::Abs: return std::fabs(value(node.args[0]));
      case Kind::Add: return checked(node, value(node.args[0]) + value(node.args[1]));
      case Kind::Subtract: return checked(node, value(node.args[0]) - value(node.args[1]));
      case Kind::Multiply: return checked(node, value(node.args[0]) * value(node.args[1]));
      case Kind::Divide: {
        double dividend = value(node.args[0]);
        double divisor = value(node.args[1]);
        if (divisor == 0) {
          const bool literal = node.args[1].kind == Kind::Number;
          throw EvaluationError("division by zero in `" + text(node) + "`" + (literal ? "" : ": " + shown(node.args[1], divisor)));
        }
        return checked(node, dividend / divisor);
      }
      case Kind::Min:
      case Kind::Max: {
        double result = value(node.args[0]);
        for (std::size_t i = 1; i < node.args.size(); ++i) {
          double next = value(node.args[i]);
          result = node.kind == Kind::Min ? std::min(result, next) : std::max(result, next);
        }
        return result;
      }
      case Kind::Clamp: {
        double x = value(node.args[0]);
        double lo = value(node.args[1]);
        double hi = value(node.args[2]);
        if (lo > hi) {
          throw EvaluationError("clamp with a lower bound above its upper bound in `" + text(node) + "`: " +
                                shown(node.args[1], lo) + ", " + shown(node.args[2], hi));
        }
        return std::clamp(x, lo, hi);
      }
    }
    throw EvaluationError("unknown operation in `" + text(node) + "`");
  }

 private:
  std::string text(const config::ExpressionNode& node) const {
    // One line, whatever the rules file's layout.
    std::string out;
    for (char c : expression_.text_of(node)) {
      bool blank = c == ' ' || c == '\n' || c == '\r' || c == '\t';
      if (!blank) {
        out += c;
      } else if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
    }
    return out;
  }

  // "ready_pods is 0", or "`a - b` is 0" for a sub-expression.
  std::string shown(const config::ExpressionNode& node, double v) const {
    if (node.kind == Kind::Number) return number_text(v);
    if (node.kind == Kind::Operand) return node.name + " is " + number_text(v);
    return "`" + text(node) + "` is " + number_text(v);
  }

  // Sums and products of finite values can still overflow to infinity.
  double checked(const config::ExpressionNode& node, double result) const {
    if (std::isfinite(result)) return result;
    throw EvaluationError("`" + text(node) + "` has no finite value (" + shown(node.args[0], value(node.args[0])) +
                          ", " + shown(node.args[1], value(node.args[1])) + ")");
  }

  const config::MetricExpression& expression_;
  const std::map<std::string, double>& operands_;
};

}  // namespace

double evaluate(const config::MetricExpression& expression, const std::map<std::string, double>& operands) {
  for (const auto& [name, v] : operands) {
    if (!std::isfinite(v)) throw EvaluationError(name + " is not a finite number");
  }
  return Evaluator(expression, operands).value(expression.root());
}

}  // namespace sma::providers::computed
