// The generated certificate: what it says, and that it works as its own trust anchor.
#include "lib/server/self_signed_cert.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>

#include "lib/tls/openssl_handles.h"

namespace sma::server {
namespace {

using namespace tls::openssl;

X509Ptr parse_certificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

KeyPtr parse_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string asn1_bytes(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
}

// "DNS:<name>", or "IP:" followed by the raw address octets.
std::set<std::string> subject_alt_names(X509* certificate) {
  std::set<std::string> found;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) found.insert("DNS:" + asn1_bytes(name->d.dNSName));
    if (name->type == GEN_IPADD) found.insert("IP:" + asn1_bytes(name->d.iPAddress));
  }
  return found;
}

}  // namespace

TEST_CASE("generates an ECDSA P-256 certificate for local names, valid a year", "[server][cert]") {
  SelfSignedCertificate generated = generate_self_signed_certificate("test-cn");
  X509Ptr certificate = parse_certificate(generated.certificate_pem);
  KeyPtr key = parse_key(generated.private_key_pem);
  REQUIRE(certificate);
  REQUIRE(key);

  CHECK(generated.private_key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(EVP_PKEY_is_a(key.get(), "EC"));
  char group[32] = {};
  size_t group_length = 0;
  REQUIRE(EVP_PKEY_get_group_name(key.get(), group, sizeof group, &group_length) == 1);
  CHECK(std::string(group) == "prime256v1");
  CHECK(X509_check_private_key(certificate.get(), key.get()) == 1);
  CHECK(X509_verify(certificate.get(), key.get()) == 1);

  char common_name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()), NID_commonName, common_name,
                            sizeof common_name);
  CHECK(std::string(common_name) == "test-cn");

  std::set<std::string> names = subject_alt_names(certificate.get());
  CHECK(names.count("DNS:localhost") == 1);
  CHECK(names.count("IP:" + std::string("\x7f\x00\x00\x01", 4)) == 1);
  CHECK(names.count("IP:" + std::string(15, '\0') + "\x01") == 1);
  char hostname[256] = {};
  REQUIRE(gethostname(hostname, sizeof hostname - 1) == 0);
  CHECK(names.count("DNS:" + std::string(hostname)) == 1);

  int days = 0;
  int seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate.get()),
                         X509_get0_notAfter(certificate.get())) == 1);
  CHECK(days == 365);  // a year, plus the hour of backdating
  CHECK(X509_cmp_current_time(X509_get0_notBefore(certificate.get())) < 0);
}

TEST_CASE("each certificate has its own key and serial", "[server][cert]") {
  SelfSignedCertificate a = generate_self_signed_certificate("same");
  SelfSignedCertificate b = generate_self_signed_certificate("same");
  CHECK(a.private_key_pem != b.private_key_pem);
  X509Ptr first = parse_certificate(a.certificate_pem);
  X509Ptr second = parse_certificate(b.certificate_pem);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(first.get()),
                         X509_get0_serialNumber(second.get())) != 0);
}

TEST_CASE("the certificate verifies against itself for server and client use", "[server][cert]") {
  SelfSignedCertificate generated = generate_self_signed_certificate("anchor");
  X509Ptr certificate = parse_certificate(generated.certificate_pem);
  std::unique_ptr<X509_STORE, FreeWith<X509_STORE_free>> store(X509_STORE_new());
  REQUIRE(X509_STORE_add_cert(store.get(), certificate.get()) == 1);

  for (int purpose : {X509_PURPOSE_SSL_CLIENT, X509_PURPOSE_SSL_SERVER}) {
    std::unique_ptr<X509_STORE_CTX, FreeWith<X509_STORE_CTX_free>> context(X509_STORE_CTX_new());
    REQUIRE(X509_STORE_CTX_init(context.get(), store.get(), certificate.get(), nullptr) == 1);
    X509_STORE_CTX_set_purpose(context.get(), purpose);
    INFO(X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get())));
    CHECK(X509_verify_cert(context.get()) == 1);
  }
}

}  // namespace sma::server
