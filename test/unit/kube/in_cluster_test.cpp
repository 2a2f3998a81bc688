#include <catch2/catch.hpp>

#include "lib/api/label_selector.h"
#include "lib/kube/kube_client.h"
#include "test/unit/http/scoped_environment.h"
#include "test/unit/kube/kube_api_double_process.h"
#include "test/unit/kube/scratch_directory.h"

using sma::http::testing::ScopedEnvironment;
using sma::kube::in_cluster_connection;
using sma::kube::testing::KubeApiDoubleProcess;
using sma::kube::testing::ScratchDirectory;

TEST_CASE("outside a cluster there is no in-cluster connection", "[in_cluster]") {
  ScopedEnvironment environment;
  environment.unset("KUBERNETES_SERVICE_HOST");
  environment.set("KUBERNETES_SERVICE_PORT", "443");
  CHECK_FALSE(in_cluster_connection().has_value());
}

TEST_CASE("the service address, token file and CA come from the environment and the mount",
          "[in_cluster]") {
  ScopedEnvironment environment;
  ScratchDirectory mount;
  mount.write("token", "sa-token");
  mount.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
  environment.set("SMA_SERVICEACCOUNT_DIR", mount.path());
  environment.set("KUBERNETES_SERVICE_PORT", "443");

  SECTION("IPv4") {
    environment.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    const auto connection = in_cluster_connection();
    REQUIRE(connection);
    CHECK(connection->server == "https://10.96.0.1:443");
    CHECK(connection->token_file == mount.path() + "/token");
    CHECK(connection->ca_file == mount.path() + "/ca.crt");
    CHECK(connection->token.empty());
    CHECK_THAT(connection->source, Catch::Contains("in-cluster"));
  }
  SECTION("IPv6 hosts are reached by the service DNS name") {
    environment.set("KUBERNETES_SERVICE_HOST", "fd00:10:96::1");
    CHECK(in_cluster_connection()->server == "https://kubernetes.default.svc:443");  // no IPv6 literal in cpprestsdk
  }
  SECTION("the pod's namespace comes from the mount, when there") {
    environment.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    CHECK(in_cluster_connection()->own_namespace.empty());
    mount.write("namespace", "custom-metrics\n");
    CHECK(in_cluster_connection()->own_namespace == "custom-metrics");
  }
  SECTION("without ca.crt the system store is used") {
    std::filesystem::remove(mount.path() + "/ca.crt");
    environment.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    CHECK(in_cluster_connection()->ca_file.empty());
  }
  SECTION("a missing token is an error that says where it looked") {
    std::filesystem::remove(mount.path() + "/token");
    environment.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    CHECK_THROWS_WITH(in_cluster_connection(), Catch::Contains(mount.path() + "/token"));
  }
  SECTION("a port that is not a number is an error") {
    environment.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    environment.set("KUBERNETES_SERVICE_PORT", "tcp://10.96.0.1:443");
    CHECK_THROWS_AS(in_cluster_connection(), std::runtime_error);
  }
}

TEST_CASE("an in-cluster connection lists pods with the mounted token and CA", "[in_cluster]") {
  KubeApiDoubleProcess api;
  ScopedEnvironment environment;
  ScratchDirectory mount;
  mount.write("token", KubeApiDoubleProcess::kToken);
  mount.write("ca.crt", sma::kube::testing::read_file(api.ca_file()));
  environment.set("SMA_SERVICEACCOUNT_DIR", mount.path());
  environment.set("KUBERNETES_SERVICE_HOST", "127.0.0.1");
  environment.set("KUBERNETES_SERVICE_PORT", std::to_string(api.port()));

  sma::kube::KubeClient client(*in_cluster_connection());
  CHECK(client.list_pods("payments", sma::api::LabelSelector::parse("app=kuard")).size() == 2);
}
