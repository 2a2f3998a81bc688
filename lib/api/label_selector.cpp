// The Kubernetes label selector string grammar (labels.Parse), its canonical string form, its
// metav1.LabelSelector JSON form (metav1.ParseToLabelSelector) and matching against labels.
#include "lib/api/label_selector.h"

#include <algorithm>
#include <cstdio>

#include "lib/api/message_text.h"
#include "lib/api/names.h"

namespace sma::api {

namespace {

using Operator = LabelRequirement::Operator;

// Selector text comes from a URL: quoted and escaped, never copied raw into messages.
std::string quoted(std::string_view text) { return quoted_for_message(text, std::string_view::npos); }

enum class TokenKind {
  End,
  Word,  // a key, a value, or the keywords "in" / "notin" (which ones depends on the position)
  Not,
  Equals,
  DoubleEquals,
  NotEquals,
  GreaterThan,
  LessThan,
  OpenParen,
  CloseParen,
  Comma,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text;
  std::size_t offset = 0;  // byte offset in the selector
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_symbol(char c) {
  switch (c) {
    case '=': case '!': case '(': case ')': case ',': case '>': case '<':
      return true;
    default:
      return false;
  }
}

// Splits the selector the way the Kubernetes lexer does: blanks separate tokens, the symbols
// above are tokens ("==" and "!=" as one), and any other run of characters is a word.
std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t pos = 0;
  while (true) {
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    if (pos == text.size()) break;
    const std::size_t start = pos;
    const char c = text[pos];
    if (!is_symbol(c)) {
      while (pos < text.size() && !is_blank(text[pos]) && !is_symbol(text[pos])) ++pos;
      tokens.push_back({TokenKind::Word, text.substr(start, pos - start), start});
      continue;
    }
    const bool followed_by_equals = pos + 1 < text.size() && text[pos + 1] == '=';
    TokenKind kind = TokenKind::End;
    std::size_t length = 1;
    switch (c) {
      case '=':
        kind = followed_by_equals ? TokenKind::DoubleEquals : TokenKind::Equals;
        length = followed_by_equals ? 2 : 1;
        break;
      case '!':
        kind = followed_by_equals ? TokenKind::NotEquals : TokenKind::Not;
        length = followed_by_equals ? 2 : 1;
        break;
      case '(': kind = TokenKind::OpenParen; break;
      case ')': kind = TokenKind::CloseParen; break;
      case ',': kind = TokenKind::Comma; break;
      case '>': kind = TokenKind::GreaterThan; break;
      case '<': kind = TokenKind::LessThan; break;
    }
    pos += length;
    tokens.push_back({kind, text.substr(start, length), start});
  }
  tokens.push_back({TokenKind::End, {}, text.size()});
  return tokens;
}

// Recursive descent over the tokens, one requirement at a time. Errors throw SelectorError
// naming the selector, what was expected and what was found where.
class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : text_(text), tokens_(tokenize(text)) {}

  std::vector<LabelRequirement> parse_requirements() {
    std::vector<LabelRequirement> requirements;
    if (peek().kind == TokenKind::End) return requirements;
    while (true) {
      requirements.push_back(parse_requirement());
      const Token& separator = next();
      if (separator.kind == TokenKind::End) break;
      if (separator.kind != TokenKind::Comma) {
        fail("expected ',' or the end of the selector after a requirement, found " +
             describe(separator));
      }
      const Token& following = peek();
      if (following.kind != TokenKind::Word && following.kind != TokenKind::Not) {
        fail("expected a requirement after ',', found " + describe(following));
      }
    }
    return requirements;
  }

 private:
  const Token& peek() const { return tokens_[position_]; }
  const Token& next() {
    const Token& token = tokens_[position_];
    if (token.kind != TokenKind::End) ++position_;
    return token;
  }
  static bool ends_requirement(const Token& token) {
    return token.kind == TokenKind::End || token.kind == TokenKind::Comma;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw SelectorError("invalid label selector " + quoted(text_) + ": " + problem);
  }

  static std::string describe(const Token& token) {
    if (token.kind == TokenKind::End) return "the end of the selector";
    return quoted(token.text) + " at character " + std::to_string(token.offset + 1);
  }

  // "in" and "notin" are operators only here, after a key; elsewhere they are plain words.
  static std::optional<Operator> binary_operator(const Token& token) {
    switch (token.kind) {
      case TokenKind::Equals: return Operator::Equals;
      case TokenKind::DoubleEquals: return Operator::DoubleEquals;
      case TokenKind::NotEquals: return Operator::NotEquals;
      case TokenKind::Word:
        if (token.text == "in") return Operator::In;
        if (token.text == "notin") return Operator::NotIn;
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  LabelRequirement parse_requirement() {
    LabelRequirement requirement;
    const bool negated = peek().kind == TokenKind::Not;
    if (negated) next();
    const Token& key = next();
    if (key.kind != TokenKind::Word) {
      fail(std::string(negated ? "expected a label key after '!'" : "expected a label key") +
           ", found " + describe(key));
    }
    requirement.key = std::string(key.text);
    if (auto problem = check_label_key(requirement.key)) fail(*problem);

    if (negated) {
      requirement.op = Operator::DoesNotExist;
      if (!ends_requirement(peek())) {
        fail(quoted("!" + requirement.key) + " (label absent) takes no operator or value, found " +
             describe(peek()));
      }
      return requirement;
    }
    if (ends_requirement(peek())) {
      requirement.op = Operator::Exists;
      return requirement;
    }

    const Token& op = next();
    if (op.kind == TokenKind::GreaterThan || op.kind == TokenKind::LessThan) {
      // labels.Parse knows gt/lt, but metav1.LabelSelector cannot carry them, so neither can we.
      fail("the '" + std::string(op.text) + "' operator at character " +
           std::to_string(op.offset + 1) +
           " is not supported in selectors here; use =, ==, !=, in, notin, 'key' or '!key'");
    }
    const auto binary = binary_operator(op);
    if (!binary) {
      fail("expected an operator (=, ==, !=, in or notin) after label key " +
           quoted(requirement.key) + ", found " + describe(op));
    }
    requirement.op = *binary;

    if (requirement.op == Operator::In || requirement.op == Operator::NotIn) {
      requirement.values = parse_value_set(requirement.key);
    } else {
      requirement.values = {parse_exact_value(op)};
    }
    for (const auto& value : requirement.values) {
      if (auto problem = check_label_value(value)) {
        fail(*problem + " (for label key " + quoted(requirement.key) + ")");
      }
    }
    return requirement;
  }

  // The value after = / == / !=; absent means the empty value ("a=" selects a="").
  std::string parse_exact_value(const Token& op) {
    if (ends_requirement(peek())) return {};
    const Token& value = next();
    if (value.kind != TokenKind::Word) {
      fail("expected a label value after '" + std::string(op.text) + "', found " + describe(value));
    }
    return std::string(value.text);
  }

  // "(v1,v2,...)": values may be empty, so "()" is the set {""} and "(,a)" is {"", "a"}, as in
  // Kubernetes. Kubernetes happens to reject a few spellings with doubled commas such as "(a,,)";
  // they are accepted here with the same meaning as "(a,)".
  std::vector<std::string> parse_value_set(const std::string& key) {
    const Token& open = next();
    if (open.kind != TokenKind::OpenParen) {
      fail("expected '(' to start the value list of label key " + quoted(key) + ", found " +
           describe(open));
    }
    std::vector<std::string> values;
    while (true) {
      std::string value;
      if (peek().kind == TokenKind::Word) value = std::string(next().text);
      values.push_back(std::move(value));
      const Token& after = next();
      if (after.kind == TokenKind::CloseParen) break;
      if (after.kind != TokenKind::Comma) {
        fail("expected ',' or ')' in the value list of label key " + quoted(key) + ", found " +
             describe(after));
      }
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t position_ = 0;
};

bool has_value(const LabelRequirement& requirement, const std::string& value) {
  return std::find(requirement.values.begin(), requirement.values.end(), value) !=
         requirement.values.end();
}

std::string_view operator_text(Operator op) {
  switch (op) {
    case Operator::Equals: return "=";
    case Operator::DoubleEquals: return "==";
    case Operator::NotEquals: return "!=";
    case Operator::In: return " in ";
    case Operator::NotIn: return " notin ";
    case Operator::Exists:
    case Operator::DoesNotExist: return "";
  }
  return "";
}

std::string requirement_to_string(const LabelRequirement& requirement) {
  std::string out = requirement.op == Operator::DoesNotExist ? "!" : "";
  out += requirement.key;
  out += operator_text(requirement.op);
  const bool is_set = requirement.op == Operator::In || requirement.op == Operator::NotIn;
  if (requirement.op == Operator::Exists || requirement.op == Operator::DoesNotExist) return out;
  if (is_set) out += '(';
  for (std::size_t i = 0; i < requirement.values.size(); ++i) {
    if (i != 0) out += ',';
    out += requirement.values[i];
  }
  if (is_set) out += ')';
  return out;
}

// metav1.LabelSelectorOperator names; = and == never get here (they go to matchLabels).
std::string_view expression_operator(Operator op) {
  switch (op) {
    case Operator::In: return "In";
    case Operator::NotIn:
    case Operator::NotEquals: return "NotIn";
    case Operator::Exists: return "Exists";
    case Operator::DoesNotExist: return "DoesNotExist";
    case Operator::Equals:
    case Operator::DoubleEquals: break;
  }
  return "";
}

// Appends text as a JSON string literal, escaped as Go's encoding/json does (including <, > and
// &). Written by hand: RapidJSON 1.1.0's Writer does arithmetic on a null pointer, which the
// undefined-behaviour sanitizer stops on.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20 || c == '<' || c == '>' || c == '&') {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

bool LabelRequirement::matches(const Labels& labels) const {
  const auto found = labels.find(key);
  return matches_value(found == labels.end() ? nullptr : &found->second);
}

bool LabelRequirement::matches_value(const std::string* value) const {
  switch (op) {
    case Operator::Equals:
    case Operator::DoubleEquals:
    case Operator::In:
      return value != nullptr && has_value(*this, *value);
    case Operator::NotEquals:
    case Operator::NotIn:
      return value == nullptr || !has_value(*this, *value);
    case Operator::Exists:
      return value != nullptr;
    case Operator::DoesNotExist:
      return value == nullptr;
  }
  return false;
}

LabelSelector LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  selector.requirements_ = SelectorParser(text).parse_requirements();
  std::stable_sort(selector.requirements_.begin(), selector.requirements_.end(),
                   [](const LabelRequirement& a, const LabelRequirement& b) { return a.key < b.key; });
  return selector;
}

bool LabelSelector::matches(const Labels& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const LabelRequirement& requirement) { return requirement.matches(labels); });
}

bool LabelSelector::matches(const LabelLookup& lookup) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const LabelRequirement& requirement) {
    return requirement.matches_value(lookup(requirement.key));
  });
}

std::string LabelSelector::to_json() const {
  // As ParseToLabelSelector: = and == become matchLabels entries (a later requirement on the same
  // key overwrites an earlier one, as a Go map assignment does); everything else an expression.
  std::map<std::string, std::string> match_labels;
  std::vector<const LabelRequirement*> expressions;
  for (const auto& requirement : requirements_) {
    if (requirement.op == Operator::Equals || requirement.op == Operator::DoubleEquals) {
      match_labels[requirement.key] = requirement.values.empty() ? "" : requirement.values.front();
    } else {
      expressions.push_back(&requirement);
    }
  }

  std::string out = "{";
  if (!match_labels.empty()) {
    out += "\"matchLabels\":{";
    bool first = true;
    for (const auto& [key, value] : match_labels) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, key);
      out += ':';
      append_json_string(out, value);
    }
    out += '}';
  }
  if (!expressions.empty()) {
    if (!match_labels.empty()) out += ',';
    out += "\"matchExpressions\":[";
    for (std::size_t i = 0; i < expressions.size(); ++i) {
      const LabelRequirement& expression = *expressions[i];
      if (i != 0) out += ',';
      out += "{\"key\":";
      append_json_string(out, expression.key);
      out += ",\"operator\":";
      append_json_string(out, expression_operator(expression.op));
      if (!expression.values.empty()) {  // "values" is omitempty in metav1
        out += ",\"values\":[";
        for (std::size_t j = 0; j < expression.values.size(); ++j) {
          if (j != 0) out += ',';
          append_json_string(out, expression.values[j]);
        }
        out += ']';
      }
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < requirements_.size(); ++i) {
    if (i != 0) out += ',';
    out += requirement_to_string(requirements_[i]);
  }
  return out;
}

}  // namespace sma::api
