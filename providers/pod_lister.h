// How providers learn which pods a label selector picks: from the Kubernetes API, through the
// watched pod cache or a list per request. Empty when no Kubernetes API is configured.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/builtin_resources.h"
#include "lib/api/deadline.h"
#include "lib/api/label_selector.h"

namespace sma::providers {

// The names of the pods a selector picks in a namespace, sorted, no repeats. Throws MetricsError (Unavailable when the
// API cannot be reached, Timeout when the deadline passed).
using PodLister = std::function<std::vector<std::string>(const std::string& namespace_, const api::LabelSelector& selector,
                                                         const api::Deadline& deadline)>;

// Kind and API version of resources outside the built-in table (custom resources), from the
// Kubernetes API's discovery; empty when there is no Kubernetes API.
using KindLookup = std::function<std::optional<api::ResourceKind>(const api::GroupResource& resource)>;

// describedObject for an answer: the built-in table, else the discovered kind, else a kind derived
// from the resource name without an apiVersion.
api::ObjectReference describe_object(const KindLookup& kinds, const api::GroupResource& resource,
                                     const std::string& namespace_, const std::string& name);

}  // namespace sma::providers
