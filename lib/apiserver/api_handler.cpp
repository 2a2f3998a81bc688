#include "lib/apiserver/api_handler.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "lib/api/api_json.h"
#include "lib/apiserver/openapi_endpoints.h"
#include "lib/routing/api_route.h"
#include "lib/telemetry/log.h"
#include "lib/telemetry/self_metrics.h"

namespace sma::apiserver {
namespace {

using providers::MetricsError;

const char* reason_for(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";  // as Kubernetes names its own "unable to return a response in the time allotted"
    default: return "InternalError";
  }
}

HttpResponse status_response(int code, const std::string& message) {
  HttpResponse response;
  response.status = code;
  response.body = api::write_status({code, reason_for(code), message});
  return response;
}

int code_for(MetricsError::Kind kind) {
  switch (kind) {
    case MetricsError::Kind::NotFound: return 404;
    case MetricsError::Kind::BadRequest: return 400;
    case MetricsError::Kind::Unavailable: return 503;
    case MetricsError::Kind::Internal: return 500;
    case MetricsError::Kind::Timeout: return 504;
  }
  return 500;
}

HttpResponse json(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  return response;
}

// How old the values an answer serves are: one observation per answer, its oldest value (a pods/*
// answer of 10,000 pods is one answer, not 10,000).
template <typename Item>
void observe_value_age(const std::vector<Item>& items) {
  if (items.empty()) return;
  auto oldest = items.front().timestamp;
  for (const auto& item : items) oldest = std::min(oldest, item.timestamp);
  const double age = std::chrono::duration<double>(api::Clock::now() - oldest).count();
  telemetry::SelfMetrics::instance().served_value_age(std::max(0.0, age));
}

}  // namespace

ApiHandler::ApiHandler(providers::MetricsProvider& provider, providers::MetricsWriter* writer,
                       routing::RouteOptions route_options, std::chrono::milliseconds request_timeout)
    : provider_(provider), writer_(writer), route_options_(route_options), request_timeout_(request_timeout) {}

HttpResponse ApiHandler::handle(const HttpRequest& request, std::chrono::steady_clock::time_point received) {
  // Carried with the query into the provider: every wait on this request's behalf ends by it.
  const api::Deadline deadline =
      request_timeout_.count() > 0 ? api::Deadline::after(request_timeout_, received) : api::Deadline();
  try {
    routing::Route route = routing::parse_route(request.target, route_options_);
    bool is_write = std::holds_alternative<routing::WriteObjectRoute>(route) ||
                    std::holds_alternative<routing::WriteExternalRoute>(route);
    if (is_write && writer_ == nullptr) {
      return status_response(404, "the server could not find the requested resource (writes need --backend push)");
    }
    bool head_ok = (std::holds_alternative<routing::HealthRoute>(route) ||
                    std::holds_alternative<routing::SelfMetricsRoute>(route)) &&
                   request.method == "HEAD";
    if (request.method != routing::allowed_method(route) && !head_ok) {
      auto response = status_response(405, "the server does not allow this method on the requested resource");
      response.headers.emplace_back("Allow", std::string(routing::allowed_method(route)));
      return response;
    }
    return std::visit(
        [&](auto& r) -> HttpResponse {
          using R = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<R, routing::HealthRoute>) {
            if (r.check == "readyz" && !ready_) return plain(503, "not ready\n");
            if (r.check == "readyz" && readiness_check_) {
              // As Kubernetes' /readyz words a failed check.
              if (std::string problem = readiness_check_(); !problem.empty()) {
                return plain(503, "[-]" + readiness_check_name_ + " failed: " + problem + "\nreadyz check failed\n");
              }
            }
            return plain(200, "ok");
          } else if constexpr (std::is_same_v<R, routing::SelfMetricsRoute>) {
            HttpResponse response = plain(200, telemetry::SelfMetrics::instance().render());
            response.content_type = "text/plain; version=0.0.4; charset=utf-8";
            return response;
          } else if constexpr (std::is_same_v<R, routing::GroupListRoute>) {
            return json(api::write_api_group_list());
          } else if constexpr (std::is_same_v<R, routing::GroupRoute>) {
            return json(r.group == routing::MetricsGroup::Custom ? api::write_custom_api_group()
                                                                 : api::write_external_api_group());
          } else if constexpr (std::is_same_v<R, routing::ResourceListRoute>) {
            if (r.group == routing::MetricsGroup::Custom) {
              return json(api::write_custom_resource_list(r.version, provider_.list_custom_metrics()));
            }
            return json(api::write_external_resource_list(provider_.list_external_metrics()));
          } else if constexpr (std::is_same_v<R, routing::ObjectRoute>) {
            r.query.deadline = deadline;
            std::vector<api::MetricValue> items{provider_.get_metric_by_name(r.query)};
            observe_value_age(items);
            return json(api::write_metric_value_list(r.version, items, &r.query.metric_selector));
          } else if constexpr (std::is_same_v<R, routing::SelectorRoute>) {
            r.query.deadline = deadline;
            auto items = provider_.get_metric_by_selector(r.query);
            observe_value_age(items);
            return json(api::write_metric_value_list(r.version, items, &r.query.metric_selector));
          } else if constexpr (std::is_same_v<R, routing::ExternalRoute>) {
            r.query.deadline = deadline;
            auto items = provider_.get_external_metric(r.query);
            observe_value_age(items);
            return json(api::write_external_metric_value_list(items));
          } else if constexpr (std::is_same_v<R, routing::OpenApiV2Route>) {
            return openapi_v2_response(request);
          } else if constexpr (std::is_same_v<R, routing::OpenApiV3DiscoveryRoute>) {
            return openapi_v3_discovery_response(request);
          } else if constexpr (std::is_same_v<R, routing::OpenApiV3Route>) {
            return openapi_v3_response(request, r.document, r.hash);
          } else if constexpr (std::is_same_v<R, routing::WriteObjectRoute>) {
            writer_->write_object_value(r.target, request.body);
            return plain(200, "");
          } else {
            static_assert(std::is_same_v<R, routing::WriteExternalRoute>);
            writer_->write_external_value(r.namespace_, r.metric, request.body);
            return plain(200, "");
          }
        },
        route);
  } catch (const routing::RouteError& e) {
    return status_response(e.code(), e.what());
  } catch (const MetricsError& e) {
    return status_response(code_for(e.kind()), e.what());
  } catch (const std::exception& e) {
    telemetry::log_error("request failed unexpectedly", {{"target", request.target}, {"error", e.what()}});
    return status_response(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace sma::apiserver
