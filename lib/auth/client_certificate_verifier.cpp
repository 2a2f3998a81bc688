#include "lib/auth/client_certificate_verifier.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <mutex>
#include <stdexcept>

namespace sma::auth {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr read_certificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::vector<std::string> name_entries(X509_NAME* name, int nid) {
  std::vector<std::string> values;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length >= 0) values.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
  }
  return values;
}

using StorePtr = std::shared_ptr<X509_STORE>;

StorePtr read_store(const std::string& pem, const std::string& source) {
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  int loaded = 0;
  while (X509Ptr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store.get(), ca.get()) == 1) ++loaded;
  }
  if (loaded == 0) throw std::runtime_error("no CA certificate could be read from " + source);
  return store;
}

}  // namespace

struct ClientCertificateVerifier::Impl {
  // A verification holds its own reference, so a replacement never frees a store in use.
  mutable std::mutex mutex;
  StorePtr store;  // guarded by mutex; never null

  StorePtr current() const {
    std::lock_guard lock(mutex);
    return store;
  }
};

ClientCertificateVerifier::ClientCertificateVerifier(const std::string& pem, const std::string& source)
    : impl_(std::make_unique<Impl>()) {
  impl_->store = read_store(pem, source);
}

void ClientCertificateVerifier::replace(const std::string& pem, const std::string& source) {
  StorePtr next = read_store(pem, source);  // throws before anything changes
  std::lock_guard lock(impl_->mutex);
  impl_->store = std::move(next);
}

ClientCertificateVerifier::~ClientCertificateVerifier() = default;
ClientCertificateVerifier::ClientCertificateVerifier(ClientCertificateVerifier&&) noexcept = default;
ClientCertificateVerifier& ClientCertificateVerifier::operator=(ClientCertificateVerifier&&) noexcept = default;

std::optional<VerifiedCertificate> ClientCertificateVerifier::verify(const std::vector<std::string>& chain_pem) const {
  if (chain_pem.empty()) return std::nullopt;
  X509Ptr leaf = read_certificate(chain_pem.front());
  if (!leaf) return std::nullopt;
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); });
  for (std::size_t i = 1; i < chain_pem.size(); ++i) {
    if (X509Ptr intermediate = read_certificate(chain_pem[i])) sk_X509_push(untrusted.get(), intermediate.release());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  StorePtr store = impl_->current();
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) return std::nullopt;
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) return std::nullopt;

  X509_NAME* subject = X509_get_subject_name(leaf.get());
  auto common_names = name_entries(subject, NID_commonName);
  VerifiedCertificate verified;
  if (!common_names.empty()) verified.common_name = common_names.front();
  verified.organizations = name_entries(subject, NID_organizationName);
  return verified;
}

}  // namespace sma::auth
