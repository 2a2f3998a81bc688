// The JSON document an exec rule's command reads on stdin: the whole request, and the only way any
// of it reaches the command (never argv, environment or a shell). Version 1, described field by
// field in docs/user-logic.md:
//
//   {"version":1,"kind":"object","rule":"adapter.yaml:12","metric":"queue_age_seconds",
//    "namespace":"default","resource":"deployments.apps","name":"kuard",
//    "metricSelector":{"string":"queue=orders","matchLabels":{"queue":"orders"}},
//    "deadline":"2026-01-01T10:00:00.250Z","timeoutMillis":1999,
//    "object":{...the Deployment as the Kubernetes API returns it, with input: object...}}
//
// kind "selector" has "labelSelector" (the object selector) and, for pods chosen by a label
// selector, "names" (the pods, sorted) instead of "name"; with input: object, "objects" (what the
// Kubernetes API lists for them). kind "external" has neither resource nor name; its
// metricSelector is the request's labelSelector.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lib/api/timestamp.h"
#include "providers/provider.h"

namespace sma::providers::exec {

inline constexpr int kStdinDocumentVersion = 1;

// The document without what changes from one call to the next (deadline, object): the part that,
// with the rule's command, is the value cache's key.
std::string object_document(const ObjectQuery& query, const std::string& rule);
std::string selector_document(const SelectorQuery& query, const std::vector<std::string>& names, const std::string& rule);
std::string external_document(const ExternalQuery& query, const std::string& rule);

// The document as the command gets it: the deadline (wall clock, RFC 3339 with milliseconds) and
// the time it has, then `object` or `objects` when given (compact JSON, already validated).
std::string completed_document(const std::string& document, api::Clock::time_point deadline,
                               std::chrono::milliseconds timeout, const std::string& object_json = {},
                               const std::string& objects_json = {});

// "2026-01-01T10:00:00.250Z"
std::string format_rfc3339_millis(api::Clock::time_point t);

}  // namespace sma::providers::exec
