// The expression of a computed metric (a rule's `expr`): numbers, other metrics by their API name,
// + - * /, unary minus, parentheses, and the functions min, max, abs and clamp(x, lo, hi). Parsed
// once, when the rules file loads, by a recursive-descent parser whose errors say where (line and
// column within the expression); evaluated per request by providers/computed/.
//
//   expression := term (("+" | "-") term)*
//   term       := unary (("*" | "/") unary)*
//   unary      := ("-" | "+") unary | primary
//   primary    := number | name | function "(" expression ("," expression)* ")" | "(" expression ")"
//
// A number starts with a digit (0.5, 2, 1e3); a name is a metric name ([a-zA-Z_:.][a-zA-Z0-9_:.]*),
// so `max` alone is the metric called max and `max(` the function.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sma::config {

struct ExpressionNode {
  enum class Kind { Number, Operand, Negate, Add, Subtract, Multiply, Divide, Min, Max, Abs, Clamp };
  Kind kind = Kind::Number;
  double number = 0;                 // Number
  std::string name;                  // Operand: the metric's API name
  std::vector<ExpressionNode> args;  // the operands of an operator or function, in order
  std::size_t begin = 0;             // the node's text: [begin, end) of the expression
  std::size_t end = 0;
};

// "division", "max", ...: what a node does, for messages and the explain tree.
std::string_view kind_name(ExpressionNode::Kind kind);

// Where and why an expression does not parse. line and column count from 1 within the expression.
class ExpressionError : public std::runtime_error {
 public:
  ExpressionError(std::size_t offset, int line, int column, const std::string& problem)
      : std::runtime_error(problem), offset_(offset), line_(line), column_(column) {}
  std::size_t offset() const { return offset_; }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::size_t offset_;
  int line_;
  int column_;
};

class MetricExpression {
 public:
  // At most kMaxLength bytes and kMaxDepth nested operators, calls or parentheses: a rules file is
  // written by people, and the bounds keep parsing and evaluation off deep recursion.
  static constexpr std::size_t kMaxLength = 4096;
  static constexpr int kMaxDepth = 64;

  // Throws ExpressionError.
  static MetricExpression parse(std::string_view text);

  const ExpressionNode& root() const { return *root_; }
  const std::string& text() const { return *text_; }
  // The text a node was parsed from, e.g. "max(kube_ready_pods, 1)".
  std::string_view text_of(const ExpressionNode& node) const;
  // The metric names it reads, each once, in order of first appearance.
  const std::vector<std::string>& operands() const { return *operands_; }
  // The tree as `explain` prints it: one node a line, children indented by two spaces.
  std::string tree() const;

 private:
  // Shared, so rules (and the configurations holding them) copy cheaply.
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const ExpressionNode> root_;
  std::shared_ptr<const std::vector<std::string>> operands_;
};

}  // namespace sma::config
