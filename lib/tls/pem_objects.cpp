#include "lib/tls/pem_objects.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <stdexcept>

namespace sma::tls {
namespace {

using namespace openssl;

BioPtr reader_of(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string contents_of(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Never prompt for the passphrase of an encrypted key: fail to read it instead.
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return 0; }

}  // namespace

X509Ptr parse_certificate(std::string_view pem) {
  BioPtr bio = reader_of(pem);
  X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return certificate;
}

KeyPtr parse_private_key(std::string_view pem) {
  BioPtr bio = reader_of(pem);
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, &refuse_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  return key;
}

std::vector<X509Ptr> parse_certificate_bundle(std::string_view pem) {
  std::vector<X509Ptr> certificates;
  BioPtr bio = reader_of(pem);
  if (!bio) return certificates;
  while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certificates.emplace_back(next);
  // The loop ends at the end of the text (PEM_R_NO_START_LINE) or at a block that does not parse.
  unsigned long last = ERR_peek_last_error();
  bool clean_end = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
  ERR_clear_error();
  if (!clean_end) certificates.clear();
  return certificates;
}

std::string certificate_to_pem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    ERR_clear_error();
    throw std::runtime_error("cannot encode a certificate as PEM");
  }
  return contents_of(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    throw std::runtime_error("cannot encode a private key as PEM");
  }
  return contents_of(bio.get());
}

}  // namespace sma::tls
