#include "lib/server/self_signed_cert.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <stdexcept>
#include <string>
#include <utility>

#include "lib/server/openssl_handles.h"

namespace sma::server {
namespace {

using namespace openssl;

constexpr long kValiditySeconds = 365L * 24 * 60 * 60;
// Backdated so a peer whose clock runs a little behind still accepts the certificate.
constexpr long kClockSkewSeconds = 60L * 60;

// Throws with the oldest queued OpenSSL error (the root cause), leaving the queue empty.
[[noreturn]] void throw_openssl_error(const std::string& step) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string message = "self-signed certificate: " + step + " failed";
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

// Hostnames go into a DNS SAN (an IA5String); anything not plain LDH text is left out.
bool is_plain_dns_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string machine_hostname() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return {};
  return std::string(name.data());
}

void push_name(GENERAL_NAMES* names, GeneralNamePtr name) {
  check(sk_GENERAL_NAME_push(names, name.get()) > 0, "adding subjectAltName entry");
  name.release();  // now owned by the stack
}

void add_dns_name(GENERAL_NAMES* names, const std::string& dns) {
  GeneralNamePtr name(GENERAL_NAME_new());
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  check(name != nullptr && value != nullptr, "allocating DNS name");
  GENERAL_NAME_set0_value(name.get(), GEN_DNS, value);  // name owns value from here
  check(ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) == 1, "setting DNS name");
  push_name(names, std::move(name));
}

void add_ip_address(GENERAL_NAMES* names, const char* ip) {
  GeneralNamePtr name(GENERAL_NAME_new());
  check(name != nullptr, "allocating IP name");
  ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip);
  check(value != nullptr, std::string("parsing IP address ") + ip);
  GENERAL_NAME_set0_value(name.get(), GEN_IPADD, value);
  push_name(names, std::move(name));
}

void add_subject_alt_names(X509* certificate) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  check(names != nullptr, "allocating subjectAltName");
  add_dns_name(names.get(), "localhost");
  std::string hostname = machine_hostname();
  if (hostname != "localhost" && is_plain_dns_name(hostname)) add_dns_name(names.get(), hostname);
  add_ip_address(names.get(), "127.0.0.1");
  add_ip_address(names.get(), "::1");
  check(
      X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1,
      "adding subjectAltName");
}

void add_extension(X509* certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  check(extension != nullptr, std::string("building extension ") + OBJ_nid2sn(nid));
  check(X509_add_ext(certificate, extension.get(), -1) == 1,
        std::string("adding extension ") + OBJ_nid2sn(nid));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string certificate_to_pem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_X509(bio.get(), certificate) == 1, "encoding certificate");
  return bio_contents(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr &&
            PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "encoding private key");
  return bio_contents(bio.get());
}

}  // namespace

SelfSignedCertificate generate_self_signed_certificate(std::string_view common_name) {
  KeyPtr key = generate_p256_key();
  X509Ptr certificate(X509_new());
  check(certificate != nullptr, "allocating certificate");
  X509* cert = certificate.get();

  check(X509_set_version(cert, X509_VERSION_3) == 1, "setting version");
  set_random_serial(cert);
  check(X509_gmtime_adj(X509_getm_notBefore(cert), -kClockSkewSeconds) != nullptr,
        "setting notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), kValiditySeconds) != nullptr, "setting notAfter");
  check(X509_set_pubkey(cert, key.get()) == 1, "setting public key");

  X509_NAME* subject = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) == 1,
        "setting common name");
  check(X509_set_issuer_name(cert, subject) == 1, "setting issuer");

  // Its own root (like `openssl req -x509`), so the PEM can go straight into a trust bundle.
  add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(cert, NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert, NID_subject_key_identifier, "hash");
  add_subject_alt_names(cert);

  check(X509_sign(cert, key.get(), EVP_sha256()) > 0, "signing certificate");
  return SelfSignedCertificate{certificate_to_pem(cert), private_key_to_pem(key.get())};
}

}  // namespace sma::server
