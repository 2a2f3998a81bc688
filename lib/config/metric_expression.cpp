#include "lib/config/metric_expression.h"

#include <charconv>
#include <cmath>
#include <set>
#include <system_error>

#include "lib/api/names.h"

namespace sma::config {
namespace {

using Kind = ExpressionNode::Kind;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c == '.'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A character as a message shows it: printable ASCII quoted, anything else as \xHH.
std::string shown(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0x0f];
}

struct Function {
  const char* name;
  Kind kind;
  std::size_t min_args;
  std::size_t max_args;  // 0: no upper bound
};

constexpr Function kFunctions[] = {
    {"min", Kind::Min, 2, 0},
    {"max", Kind::Max, 2, 0},
    {"abs", Kind::Abs, 1, 1},
    {"clamp", Kind::Clamp, 3, 3},
};

const Function* function_named(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  ExpressionNode parse() {
    if (text_.size() > MetricExpression::kMaxLength) {
      fail(MetricExpression::kMaxLength, "the expression is longer than " + std::to_string(MetricExpression::kMaxLength) +
                                            " characters");
    }
    skip_blanks();
    if (pos_ == text_.size()) fail(pos_, "the expression is empty");
    ExpressionNode root = expression();
    skip_blanks();
    if (pos_ != text_.size()) {
      fail(pos_, "expected an operator or the end of the expression but found " + describe_here());
    }
    check_depth(root, 1);
    return root;
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& problem) const {
    int line = 1;
    int column = 1;
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw ExpressionError(offset, line, column, problem);
  }

  // Parsing bounds its own recursion; a chain such as a+b+c+... still makes a tree one level deeper
  // per operator, which evaluation walks recursively, so the tree is bounded too.
  void check_depth(const ExpressionNode& node, int depth) const {
    if (depth > MetricExpression::kMaxDepth) {
      fail(node.begin, "the expression nests deeper than " + std::to_string(MetricExpression::kMaxDepth) +
                           " levels (each operator of a chain such as a+b+c counts one)");
    }
    for (const auto& arg : node.args) check_depth(arg, depth + 1);
  }

  void skip_blanks() {
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
  }

  std::string describe_here() const {
    if (pos_ >= text_.size()) return "the end of the expression";
    char c = text_[pos_];
    if (is_name_start(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && is_name_char(text_[end])) ++end;
      return "the name \"" + std::string(text_.substr(pos_, end - pos_)) + "\"";
    }
    if (is_digit(c)) return "a number";
    return shown(c);
  }

  bool peek(char c) {
    skip_blanks();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  // Guards every level of recursion: operators, calls and parentheses.
  struct Depth {
    Parser& parser;
    Depth(Parser& p, std::size_t where) : parser(p) {
      if (++parser.depth_ > MetricExpression::kMaxDepth) {
        parser.fail(where, "the expression nests deeper than " + std::to_string(MetricExpression::kMaxDepth) + " levels");
      }
    }
    ~Depth() { --parser.depth_; }
  };

  static ExpressionNode binary(Kind kind, ExpressionNode left, ExpressionNode right) {
    ExpressionNode node;
    node.kind = kind;
    node.begin = left.begin;
    node.end = right.end;
    node.args.push_back(std::move(left));
    node.args.push_back(std::move(right));
    return node;
  }

  ExpressionNode expression() {
    Depth guard(*this, pos_);
    ExpressionNode left = term();
    while (peek('+') || peek('-')) {
      Kind kind = text_[pos_] == '+' ? Kind::Add : Kind::Subtract;
      ++pos_;
      left = binary(kind, std::move(left), term());
    }
    return left;
  }

  ExpressionNode term() {
    ExpressionNode left = unary();
    while (peek('*') || peek('/')) {
      Kind kind = text_[pos_] == '*' ? Kind::Multiply : Kind::Divide;
      ++pos_;
      left = binary(kind, std::move(left), unary());
    }
    return left;
  }

  ExpressionNode unary() {
    skip_blanks();
    if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) {
      Depth guard(*this, pos_);
      std::size_t begin = pos_;
      bool negate = text_[pos_] == '-';
      ++pos_;
      ExpressionNode inner = unary();
      if (!negate) {
        inner.begin = begin;
        return inner;
      }
      ExpressionNode node;
      node.kind = Kind::Negate;
      node.begin = begin;
      node.end = inner.end;
      node.args.push_back(std::move(inner));
      return node;
    }
    return primary();
  }

  ExpressionNode primary() {
    skip_blanks();
    if (pos_ >= text_.size()) {
      fail(pos_, "the expression ends where an operand (a metric name, a number, a function or '(') is expected");
    }
    char c = text_[pos_];
    if (c == '(') {
      std::size_t open = pos_++;
      ExpressionNode inner = expression();
      expect_close(open);
      inner.begin = open;
      inner.end = pos_;
      return inner;
    }
    if (is_digit(c)) return number();
    if (c == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1])) {
      fail(pos_, "a number starts with a digit: write 0" + std::string(text_.substr(pos_, 2)) + "...");
    }
    if (is_name_start(c)) return name_or_call();
    fail(pos_, "expected an operand (a metric name, a number, a function or '(') but found " + describe_here());
  }

  void expect_close(std::size_t open) {
    if (peek(')')) {
      ++pos_;
      return;
    }
    fail(pos_, "expected ')' to close the '(' at column " + std::to_string(column_of(open)) + " but found " +
                   describe_here());
  }

  int column_of(std::size_t offset) const {
    std::size_t line_start = text_.rfind('\n', offset == 0 ? 0 : offset - 1);
    line_start = line_start == std::string_view::npos || offset == 0 ? 0 : line_start + 1;
    return static_cast<int>(offset - line_start) + 1;
  }

  ExpressionNode number() {
    std::size_t begin = pos_;
    std::size_t end = pos_;
    while (end < text_.size() && is_digit(text_[end])) ++end;
    if (end < text_.size() && text_[end] == '.') {
      ++end;
      while (end < text_.size() && is_digit(text_[end])) ++end;
    }
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      std::size_t exponent = end + 1;
      if (exponent < text_.size() && (text_[exponent] == '+' || text_[exponent] == '-')) ++exponent;
      if (exponent < text_.size() && is_digit(text_[exponent])) {
        end = exponent;
        while (end < text_.size() && is_digit(text_[end])) ++end;
      }
    }
    if (end < text_.size() && is_name_char(text_[end])) {
      fail(end, "a number is directly followed by " + shown(text_[end]) +
                    " (numbers take no unit suffix; metric names start with a letter, '_', ':' or '.')");
    }
    ExpressionNode node;
    node.kind = Kind::Number;
    auto [ptr, error] = std::from_chars(text_.data() + begin, text_.data() + end, node.number);
    if (error != std::errc() || ptr != text_.data() + end || !std::isfinite(node.number)) {
      fail(begin, "the number " + std::string(text_.substr(begin, end - begin)) + " is out of range");
    }
    node.begin = begin;
    node.end = end;
    pos_ = end;
    return node;
  }

  ExpressionNode name_or_call() {
    std::size_t begin = pos_;
    std::size_t end = pos_;
    while (end < text_.size() && is_name_char(text_[end])) ++end;
    std::string_view name = text_.substr(begin, end - begin);
    pos_ = end;
    if (!peek('(')) {
      if (auto problem = api::check_metric_name(name)) fail(begin, *problem);
      ExpressionNode node;
      node.kind = Kind::Operand;
      node.name = std::string(name);
      node.begin = begin;
      node.end = end;
      return node;
    }
    const Function* function = function_named(name);
    if (function == nullptr) {
      fail(begin, "unknown function \"" + std::string(name) + "\" (the functions are min, max, abs and clamp)");
    }
    std::size_t open = pos_++;
    ExpressionNode node;
    node.kind = function->kind;
    node.begin = begin;
    node.args.push_back(expression());
    while (peek(',')) {
      ++pos_;
      node.args.push_back(expression());
    }
    expect_close(open);
    node.end = pos_;
    std::size_t count = node.args.size();
    if (count < function->min_args || (function->max_args != 0 && count > function->max_args)) {
      std::string wanted = function->max_args == function->min_args
                               ? std::to_string(function->min_args)
                               : "at least " + std::to_string(function->min_args);
      fail(begin, std::string(function->name) + " takes " + wanted + " argument" +
                      (function->min_args == 1 && function->max_args == 1 ? "" : "s") + ", not " + std::to_string(count));
    }
    return node;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

void collect_operands(const ExpressionNode& node, std::vector<std::string>& out, std::set<std::string>& seen) {
  if (node.kind == Kind::Operand && seen.insert(node.name).second) out.push_back(node.name);
  for (const auto& arg : node.args) collect_operands(arg, out, seen);
}

std::string number_text(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc() ? std::string(buffer, end) : std::string("?");
}

}  // namespace

std::string_view kind_name(ExpressionNode::Kind kind) {
  switch (kind) {
    case Kind::Number: return "number";
    case Kind::Operand: return "metric";
    case Kind::Negate: return "negation";
    case Kind::Add: return "addition";
    case Kind::Subtract: return "subtraction";
    case Kind::Multiply: return "multiplication";
    case Kind::Divide: return "division";
    case Kind::Min: return "min";
    case Kind::Max: return "max";
    case Kind::Abs: return "abs";
    case Kind::Clamp: return "clamp";
  }
  return "?";
}

MetricExpression MetricExpression::parse(std::string_view text) {
  MetricExpression e;
  e.text_ = std::make_shared<const std::string>(text);
  e.root_ = std::make_shared<const ExpressionNode>(Parser(*e.text_).parse());
  auto operands = std::make_shared<std::vector<std::string>>();
  std::set<std::string> seen;
  collect_operands(*e.root_, *operands, seen);
  e.operands_ = std::move(operands);
  return e;
}

std::string_view MetricExpression::text_of(const ExpressionNode& node) const {
  return std::string_view(*text_).substr(node.begin, node.end - node.begin);
}

std::string MetricExpression::tree() const {
  std::string out;
  // Depth is bounded by kMaxDepth, so recursion is too.
  auto write = [&](auto& self, const ExpressionNode& node, int indent) -> void {
    out.append(static_cast<std::size_t>(indent) * 2, ' ');
    switch (node.kind) {
      case Kind::Number: out += "number " + number_text(node.number) + "\n"; break;
      case Kind::Operand: out += "metric " + node.name + "\n"; break;
      default: {
        // Whitespace in the node's text (newlines of a multi-line expression) shown as one space.
        std::string text;
        for (char c : text_of(node)) {
          if (!is_blank(c)) {
            text += c;
          } else if (!text.empty() && text.back() != ' ') {
            text += ' ';
          }
        }
        out += std::string(kind_name(node.kind)) + ": " + text + "\n";
        for (const auto& arg : node.args) self(self, arg, indent + 1);
      }
    }
  };
  write(write, *root_, 0);
  return out;
}

}  // namespace sma::config
