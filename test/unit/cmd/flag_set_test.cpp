#include <catch2/catch.hpp>

#include <vector>

#include "cmd/flag_set.h"

using sma::cmd::FlagError;
using sma::cmd::FlagSet;

namespace {

struct Parsed {
  std::string address = "0.0.0.0";
  std::uint16_t port = 6443;
  bool anonymous = false;
  std::chrono::milliseconds ttl{600000};
  std::vector<std::string> positional;
  FlagSet flags;

  Parsed() {
    flags.add_string("bind-address", &address, "address");
    flags.add_port("secure-port", &port, "port");
    flags.add_bool("insecure-allow-anonymous", &anonymous, "anon");
    flags.add_duration("push-ttl", &ttl, "ttl");
  }
  void parse(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    positional = flags.parse(static_cast<int>(args.size()), args.data());
  }
};

}  // namespace

TEST_CASE("both flag spellings and booleans") {
  Parsed p;
  p.parse({"--secure-port=8443", "--bind-address", "127.0.0.1", "--insecure-allow-anonymous", "--push-ttl", "30s"});
  CHECK(p.port == 8443);
  CHECK(p.address == "127.0.0.1");
  CHECK(p.anonymous);
  CHECK(p.ttl == std::chrono::seconds(30));
  CHECK(p.flags.was_set("secure-port"));
  CHECK_FALSE(p.flags.help_requested());

  Parsed q;
  q.parse({"-insecure-allow-anonymous=false", "explain", "--", "--not-a-flag"});
  CHECK_FALSE(q.anonymous);
  CHECK(q.positional == std::vector<std::string>{"explain", "--not-a-flag"});
}

TEST_CASE("flag errors name the flag") {
  for (auto args : std::vector<std::vector<const char*>>{
           {"--nope"}, {"--secure-port", "x"}, {"--secure-port=65536"}, {"--push-ttl=1"}, {"--bind-address"},
           {"--insecure-allow-anonymous=yes"}}) {
    Parsed p;
    CHECK_THROWS_AS(p.parse(args), FlagError);
  }
}

TEST_CASE("usage lists flags with defaults") {
  Parsed p;
  auto usage = p.flags.usage("prog");
  CHECK_THAT(usage, Catch::Contains("--secure-port value"));
  CHECK_THAT(usage, Catch::Contains("(default 6443)"));
  CHECK_THAT(usage, Catch::Contains("(default 10m0s)"));
  CHECK_THAT(usage, Catch::Contains("--insecure-allow-anonymous\n"));
}
