#include "lib/tls/certificate_facts.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <stdexcept>

#include "lib/tls/pem_objects.h"

namespace sma::tls {
namespace {

using namespace openssl;

Clock::time_point time_of(const ASN1_TIME* time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) throw std::runtime_error("a certificate has an unreadable validity date");
  return Clock::from_time_t(timegm(&parts));
}

std::string common_name_of(X509* certificate) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
}

std::vector<std::string> dns_names_of(X509* certificate) {
  std::vector<std::string> found;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    found.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                       static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
  }
  return found;
}

std::string fingerprint_of(X509* certificate) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest.data(), &length) != 1) {
    ERR_clear_error();
    throw std::runtime_error("cannot hash a certificate");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace

double CertificateFacts::life_used(Clock::time_point now) const {
  const double life = std::chrono::duration<double>(not_after - not_before).count();
  if (life <= 0) return 1.0;
  return std::chrono::duration<double>(now - not_before).count() / life;
}

std::vector<CertificateFacts> read_certificates(std::string_view pem) {
  std::vector<X509Ptr> parsed = parse_certificate_bundle(pem);
  if (parsed.empty()) throw std::runtime_error("no valid PEM certificate");
  std::vector<CertificateFacts> facts;
  for (const X509Ptr& certificate : parsed) {
    CertificateFacts one;
    one.pem = certificate_to_pem(certificate.get());
    one.common_name = common_name_of(certificate.get());
    one.not_before = time_of(X509_get0_notBefore(certificate.get()));
    one.not_after = time_of(X509_get0_notAfter(certificate.get()));
    one.is_authority = X509_check_ca(certificate.get()) == 1;
    one.dns_names = dns_names_of(certificate.get());
    one.sha256_fingerprint = fingerprint_of(certificate.get());
    facts.push_back(std::move(one));
  }
  return facts;
}

bool issued_by(std::string_view certificate_pem, std::string_view authority_pem) {
  X509Ptr certificate = parse_certificate(certificate_pem);
  X509Ptr authority = parse_certificate(authority_pem);
  if (!certificate || !authority) return false;
  bool issued = X509_check_issued(authority.get(), certificate.get()) == X509_V_OK;
  EVP_PKEY* authority_key = X509_get0_pubkey(authority.get());
  bool signed_by = issued && authority_key != nullptr && X509_verify(certificate.get(), authority_key) == 1;
  ERR_clear_error();
  return signed_by;
}

bool key_matches(std::string_view certificate_pem, std::string_view private_key_pem) {
  X509Ptr certificate = parse_certificate(certificate_pem);
  KeyPtr key = parse_private_key(private_key_pem);
  bool matches = certificate && key && X509_check_private_key(certificate.get(), key.get()) == 1;
  ERR_clear_error();
  return matches;
}

}  // namespace sma::tls
