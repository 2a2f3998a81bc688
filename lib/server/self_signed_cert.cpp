#include "lib/server/self_signed_cert.h"

#include <unistd.h>

#include <array>
#include <climits>
#include <string>

#include "lib/tls/certificate_issuer.h"

namespace sma::server {
namespace {

constexpr std::chrono::seconds kValidity = std::chrono::hours(24 * 365);

std::string machine_hostname() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return {};
  return std::string(name.data());
}

// Hostnames go into a DNS SAN; one that is not plain LDH text is left out.
bool is_plain_dns_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

SelfSignedCertificate generate_self_signed_certificate(std::string_view common_name) {
  tls::SubjectNames names;
  names.common_name = std::string(common_name);
  names.dns_names = {"localhost"};
  std::string hostname = machine_hostname();
  if (hostname != "localhost" && is_plain_dns_name(hostname)) names.dns_names.push_back(hostname);
  names.ip_addresses = {"127.0.0.1", "::1"};
  tls::IssuedPair pair = tls::issue_self_signed(names, kValidity);
  return SelfSignedCertificate{std::move(pair.certificate_pem), std::move(pair.private_key_pem)};
}

}  // namespace sma::server
