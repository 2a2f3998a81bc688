#include "lib/tls/certificate_issuer.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <utility>

#include "lib/tls/openssl_handles.h"
#include "lib/tls/pem_objects.h"

namespace sma::tls {
namespace {

using namespace openssl;

// Throws with the oldest queued OpenSSL error (the root cause), leaving the queue empty.
[[noreturn]] void throw_openssl_error(const std::string& step) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string message = "issuing a certificate: " + step + " failed";
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  throw std::runtime_error(message);
}

void check(bool ok, const std::string& step) {
  if (!ok) throw_openssl_error(step);
}

KeyPtr generate_p256_key() {
  KeyContextPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  check(context != nullptr, "creating key context");
  check(EVP_PKEY_keygen_init(context.get()) == 1, "initialising key generation");
  check(EVP_PKEY_CTX_set_group_name(context.get(), "P-256") == 1, "selecting curve P-256");
  EVP_PKEY* key = nullptr;
  check(EVP_PKEY_generate(context.get(), &key) == 1, "generating key");
  return KeyPtr(key);
}

// A random positive 159-bit serial, as RFC 5280 recommends (unpredictable, at most 20 octets).
void set_random_serial(X509* certificate) {
  std::array<unsigned char, 20> bytes{};
  check(RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1, "generating serial");
  bytes[0] &= 0x7f;
  BignumPtr serial(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  check(serial != nullptr, "converting serial");
  check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) != nullptr,
        "setting serial");
}

// A DNS SAN is an IA5String; Kubernetes Service names and hostnames are plain LDH text.
bool is_plain_dns_name(const std::string& name) {
  return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '*';
  });
}

void push_name(GENERAL_NAMES* names, GeneralNamePtr name) {
  check(sk_GENERAL_NAME_push(names, name.get()) > 0, "adding subjectAltName entry");
  name.release();  // now owned by the stack
}

void add_dns_name(GENERAL_NAMES* names, const std::string& dns) {
  if (!is_plain_dns_name(dns)) throw std::runtime_error("\"" + dns + "\" is not a DNS name a certificate can hold");
  GeneralNamePtr name(GENERAL_NAME_new());
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  check(name != nullptr && value != nullptr, "allocating DNS name");
  GENERAL_NAME_set0_value(name.get(), GEN_DNS, value);  // name owns value from here
  check(ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) == 1, "setting DNS name");
  push_name(names, std::move(name));
}

void add_ip_address(GENERAL_NAMES* names, const std::string& ip) {
  GeneralNamePtr name(GENERAL_NAME_new());
  check(name != nullptr, "allocating IP name");
  ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip.c_str());
  if (value == nullptr) {
    ERR_clear_error();
    throw std::runtime_error("\"" + ip + "\" is not an IP address");
  }
  GENERAL_NAME_set0_value(name.get(), GEN_IPADD, value);
  push_name(names, std::move(name));
}

void add_subject_alt_names(X509* certificate, const SubjectNames& wanted) {
  if (wanted.dns_names.empty() && wanted.ip_addresses.empty()) return;
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  check(names != nullptr, "allocating subjectAltName");
  for (const std::string& dns : wanted.dns_names) add_dns_name(names.get(), dns);
  for (const std::string& ip : wanted.ip_addresses) add_ip_address(names.get(), ip);
  check(X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1,
        "adding subjectAltName");
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  check(extension != nullptr, std::string("building extension ") + OBJ_nid2sn(nid));
  check(X509_add_ext(certificate, extension.get(), -1) == 1, std::string("adding extension ") + OBJ_nid2sn(nid));
}

void set_common_name(X509_NAME* name, std::string_view common_name) {
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) == 1,
        "setting common name");
}

// Version, serial, validity, subject and key of a new certificate; extensions and signature follow.
X509Ptr new_certificate(EVP_PKEY* key, std::string_view common_name, std::chrono::seconds validity) {
  if (validity.count() <= 0) throw std::runtime_error("a certificate's validity must be positive");
  X509Ptr certificate(X509_new());
  check(certificate != nullptr, "allocating certificate");
  X509* cert = certificate.get();
  check(X509_set_version(cert, X509_VERSION_3) == 1, "setting version");
  set_random_serial(cert);
  check(X509_gmtime_adj(X509_getm_notBefore(cert), -backdating_for(validity).count()) != nullptr, "setting notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), validity.count()) != nullptr, "setting notAfter");
  check(X509_set_pubkey(cert, key) == 1, "setting public key");
  set_common_name(X509_get_subject_name(cert), common_name);
  return certificate;
}

IssuedPair finish(X509* certificate, EVP_PKEY* signing_key, EVP_PKEY* key) {
  check(X509_sign(certificate, signing_key, EVP_sha256()) > 0, "signing certificate");
  return IssuedPair{certificate_to_pem(certificate), private_key_to_pem(key)};
}

}  // namespace

std::chrono::seconds backdating_for(std::chrono::seconds validity) {
  return std::min<std::chrono::seconds>(std::chrono::hours(1), validity / 10);
}

IssuedPair issue_self_signed(const SubjectNames& names, std::chrono::seconds validity) {
  KeyPtr key = generate_p256_key();
  X509Ptr certificate = new_certificate(key.get(), names.common_name, validity);
  X509* cert = certificate.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1, "setting issuer");
  // Its own root (like `openssl req -x509`), so the PEM can go straight into a trust bundle.
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(cert, cert, NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  add_subject_alt_names(cert, names);
  return finish(cert, key.get(), key.get());
}

IssuedPair issue_certificate_authority(std::string_view common_name, std::chrono::seconds validity) {
  KeyPtr key = generate_p256_key();
  X509Ptr certificate = new_certificate(key.get(), common_name, validity);
  X509* cert = certificate.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1, "setting issuer");
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  return finish(cert, key.get(), key.get());
}

IssuedPair issue_serving_certificate(const IssuedPair& authority, const SubjectNames& names,
                                     std::chrono::seconds validity) {
  X509Ptr authority_certificate = parse_certificate(authority.certificate_pem);
  KeyPtr authority_key = parse_private_key(authority.private_key_pem);
  if (!authority_certificate || !authority_key) {
    ERR_clear_error();
    throw std::runtime_error("the signing authority's certificate or key is not valid PEM");
  }
  if (X509_check_private_key(authority_certificate.get(), authority_key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("the signing authority's key does not belong to its certificate");
  }
  KeyPtr key = generate_p256_key();
  X509Ptr certificate = new_certificate(key.get(), names.common_name, validity);
  X509* cert = certificate.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(authority_certificate.get())) == 1, "setting issuer");
  add_extension(cert, authority_certificate.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, authority_certificate.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert, authority_certificate.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert, authority_certificate.get(), NID_subject_key_identifier, "hash");
  add_extension(cert, authority_certificate.get(), NID_authority_key_identifier, "keyid:always");
  add_subject_alt_names(cert, names);
  return finish(cert, authority_key.get(), key.get());
}

}  // namespace sma::tls
