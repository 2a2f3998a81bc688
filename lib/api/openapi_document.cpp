#include "lib/api/openapi_document.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>

#include "lib/api/openapi_definitions.h"
#include "lib/api/openapi_operations.h"

namespace sma::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

enum class Dialect { Swagger2, OpenApi3 };

constexpr std::string_view kTitle = "sysdig-metrics-adapter";

void key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

void string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void field(Writer& w, std::string_view k, std::string_view value) {
  key(w, k);
  string(w, value);
}

std::string ref_target(Dialect dialect, const std::string& name) {
  return (dialect == Dialect::Swagger2 ? "#/definitions/" : "#/components/schemas/") + name;
}

void write_ref(Writer& w, Dialect dialect, const std::string& name) {
  w.StartObject();
  field(w, "$ref", ref_target(dialect, name));
  w.EndObject();
}

void write_group_version_kind(Writer& w, const GroupVersionKind& gvk) {
  w.StartObject();  // the keys in Go's sorted map order, as Kubernetes writes them
  field(w, "group", gvk.group);
  field(w, "kind", gvk.kind);
  field(w, "version", gvk.version);
  w.EndObject();
}

void write_schema(Writer& w, const OpenApiSchema& s, Dialect dialect) {
  w.StartObject();
  if (!s.description.empty()) field(w, "description", s.description);
  if (!s.ref.empty()) {
    // A described $ref: Swagger 2.0 documents of Kubernetes put the description beside it; in
    // OpenAPI 3.0 a $ref's siblings are ignored, so Kubernetes wraps it in allOf.
    if (dialect == Dialect::OpenApi3 && (!s.description.empty() || s.nullable)) {
      key(w, "allOf");
      w.StartArray();
      write_ref(w, dialect, s.ref);
      w.EndArray();
    } else {
      field(w, "$ref", ref_target(dialect, s.ref));
    }
  } else {
    if (dialect == Dialect::OpenApi3 && !s.v3_one_of.empty()) {
      key(w, "oneOf");
      w.StartArray();
      for (const auto& type : s.v3_one_of) {
        w.StartObject();
        field(w, "type", type);
        w.EndObject();
      }
      w.EndArray();
    } else if (!s.type.empty()) {
      field(w, "type", s.type);
    }
    if (!s.format.empty()) field(w, "format", s.format);
    if (s.items) {
      key(w, "items");
      write_schema(w, *s.items, dialect);
    }
    if (s.additional_properties) {
      key(w, "additionalProperties");
      write_schema(w, *s.additional_properties, dialect);
    }
    if (!s.properties.empty()) {
      std::vector<const OpenApiProperty*> sorted;
      for (const auto& p : s.properties) sorted.push_back(&p);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
      key(w, "properties");
      w.StartObject();
      for (const auto* p : sorted) {
        key(w, p->name);
        write_schema(w, p->schema, dialect);
      }
      w.EndObject();
    }
    if (!s.required.empty()) {
      key(w, "required");
      w.StartArray();
      for (const auto& name : s.required) string(w, name);
      w.EndArray();
    }
  }
  if (dialect == Dialect::OpenApi3 && s.nullable) {
    // OpenAPI 3.0.3: nullable means something only beside a type, so a nullable $ref names its type.
    if (!s.ref.empty()) {
      const auto* target = find_openapi_definition(s.ref);
      if (target != nullptr && !target->schema.type.empty()) field(w, "type", target->schema.type);
    }
    key(w, "nullable");
    w.Bool(true);
  }
  if (!s.group_version_kinds.empty()) {
    key(w, "x-kubernetes-group-version-kind");
    w.StartArray();
    for (const auto& gvk : s.group_version_kinds) write_group_version_kind(w, gvk);
    w.EndArray();
  }
  if (!s.list_type.empty()) field(w, "x-kubernetes-list-type", s.list_type);
  if (!s.map_type.empty()) field(w, "x-kubernetes-map-type", s.map_type);
  w.EndObject();
}

void collect_refs(const OpenApiSchema& s, std::set<std::string>& names) {
  if (!s.ref.empty() && names.insert(s.ref).second) {
    if (const auto* target = find_openapi_definition(s.ref)) collect_refs(target->schema, names);
  }
  for (const auto& [name, property] : s.properties) collect_refs(property, names);
  if (s.items) collect_refs(*s.items, names);
  if (s.additional_properties) collect_refs(*s.additional_properties, names);
}

// The definitions the operations' answers (and failures) reach, sorted by name.
std::set<std::string> reachable_definitions(const std::vector<const OpenApiOperation*>& ops) {
  std::set<std::string> names;
  OpenApiSchema root;
  root.ref = kStatusDefinition;
  collect_refs(root, names);
  for (const auto* op : ops) {
    root.ref = op->response;
    collect_refs(root, names);
  }
  return names;
}

void write_definitions(Writer& w, const std::set<std::string>& names, Dialect dialect) {
  w.StartObject();
  for (const auto& name : names) {
    const auto* definition = find_openapi_definition(name);
    if (definition == nullptr) continue;  // openapi_definitions_test keeps every $ref resolvable
    key(w, name);
    write_schema(w, definition->schema, dialect);
  }
  w.EndObject();
}

void write_info(Writer& w, std::string_view version) {
  key(w, "info");
  w.StartObject();
  field(w, "title", kTitle);
  field(w, "version", version);
  w.EndObject();
}

void write_bearer_token_scheme(Writer& w) {
  key(w, "BearerToken");
  w.StartObject();
  field(w, "description", "Bearer Token authentication");
  field(w, "type", "apiKey");
  field(w, "name", "authorization");
  field(w, "in", "header");
  w.EndObject();
}

void write_security(Writer& w) {
  key(w, "security");
  w.StartArray();
  w.StartObject();
  key(w, "BearerToken");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  w.EndArray();
}

void write_parameter(Writer& w, const OpenApiParameter& p, Dialect dialect) {
  w.StartObject();
  field(w, "name", p.name);
  field(w, "in", p.in);
  field(w, "description", p.description);
  if (p.required) {
    key(w, "required");
    w.Bool(true);
  }
  if (dialect == Dialect::Swagger2) {
    field(w, "type", "string");
  } else {
    key(w, "schema");
    w.StartObject();
    field(w, "type", "string");
    w.EndObject();
  }
  w.EndObject();
}

void write_response(Writer& w, std::string_view code, std::string_view description, const std::string& definition,
                    Dialect dialect) {
  key(w, code);
  w.StartObject();
  field(w, "description", description);
  if (dialect == Dialect::Swagger2) {
    key(w, "schema");
    write_ref(w, dialect, definition);
  } else {
    key(w, "content");
    w.StartObject();
    key(w, "application/json");
    w.StartObject();
    key(w, "schema");
    write_ref(w, dialect, definition);
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
}

void write_operation(Writer& w, const OpenApiOperation& op, Dialect dialect) {
  w.StartObject();
  field(w, "description", op.description);
  if (dialect == Dialect::Swagger2) {
    static constexpr std::pair<std::string_view, std::string_view> kTransport[] = {
        {"consumes", "*/*"}, {"produces", "application/json"}, {"schemes", "https"}};
    for (const auto& [name, value] : kTransport) {
      key(w, name);
      w.StartArray();
      string(w, value);
      w.EndArray();
    }
  }
  key(w, "tags");
  w.StartArray();
  string(w, op.tag);
  w.EndArray();
  field(w, "operationId", op.operation_id);
  if (!op.parameters.empty()) {
    key(w, "parameters");
    w.StartArray();
    for (const auto& p : op.parameters) write_parameter(w, p, dialect);
    w.EndArray();
  }
  key(w, "responses");
  w.StartObject();
  write_response(w, "200", "OK", op.response, dialect);
  write_response(w, "default", "The failure, as a Status with its HTTP code.", kStatusDefinition, dialect);
  w.EndObject();
  if (op.kind) {
    key(w, "x-kubernetes-group-version-kind");
    write_group_version_kind(w, *op.kind);
  }
  w.EndObject();
}

void write_paths(Writer& w, const std::vector<const OpenApiOperation*>& ops, Dialect dialect) {
  key(w, "paths");
  w.StartObject();
  for (const auto* op : ops) {  // sorted by path, one GET each
    key(w, op->path);
    w.StartObject();
    key(w, "get");
    write_operation(w, *op, dialect);
    w.EndObject();
  }
  w.EndObject();
}

std::string text_of(const rapidjson::StringBuffer& buffer) { return std::string(buffer.GetString(), buffer.GetSize()); }

}  // namespace

std::string write_openapi_v2(std::string_view version) {
  std::vector<const OpenApiOperation*> ops;
  for (const auto& op : openapi_operations()) ops.push_back(&op);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  field(w, "swagger", "2.0");
  write_info(w, version);
  write_paths(w, ops, Dialect::Swagger2);
  key(w, "definitions");
  write_definitions(w, reachable_definitions(ops), Dialect::Swagger2);
  key(w, "securityDefinitions");
  w.StartObject();
  write_bearer_token_scheme(w);
  w.EndObject();
  write_security(w);
  w.EndObject();
  return text_of(buffer);
}

std::string write_openapi_v3(std::string_view document, std::string_view version) {
  std::vector<const OpenApiOperation*> ops;
  for (const auto& op : openapi_operations()) {
    if (op.v3_document == document) ops.push_back(&op);
  }
  if (ops.empty()) return {};
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  field(w, "openapi", "3.0.0");
  write_info(w, version);
  write_paths(w, ops, Dialect::OpenApi3);
  key(w, "components");
  w.StartObject();
  key(w, "schemas");
  write_definitions(w, reachable_definitions(ops), Dialect::OpenApi3);
  key(w, "securitySchemes");
  w.StartObject();
  write_bearer_token_scheme(w);
  w.EndObject();
  w.EndObject();
  write_security(w);
  w.EndObject();
  return text_of(buffer);
}

std::string write_openapi_v3_discovery(const std::vector<std::pair<std::string, std::string>>& hashes) {
  auto sorted = hashes;  // Go writes the map's keys sorted
  std::sort(sorted.begin(), sorted.end());
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  key(w, "paths");
  w.StartObject();
  for (const auto& [document, hash] : sorted) {
    key(w, document);
    w.StartObject();
    field(w, "serverRelativeURL", "/openapi/v3/" + document + "?hash=" + hash);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return text_of(buffer);
}

}  // namespace sma::api
