#include "lib/http/tls_client_setup.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <utility>
#include <vector>

#include "lib/http/http_fetcher.h"

namespace sma::http {
namespace {

// Files are looked at (stat) at most this often; a change is then read at the next connection.
constexpr std::chrono::seconds kLookInterval{1};

// The system bundle's path, as OpenSSL would have read it before share_system_trust_store().
std::string& system_bundle_path() {
  static std::string path;
  return path;
}

std::string system_bundle() {
  if (!system_bundle_path().empty()) return system_bundle_path();
  const char* env = std::getenv(X509_get_default_cert_file_env());
  return env != nullptr ? env : X509_get_default_cert_file();
}

// The newest OpenSSL error of this thread, as text ("no such file", "PEM lib", ...).
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

[[noreturn]] void fail_to_load(const std::string& what, const std::string& path) {
  throw FetchError(FetchError::Kind::Protocol, "cannot load " + what + " \"" + path + "\": " + openssl_reason());
}

// An encrypted key must fail to load, never prompt on the terminal for its passphrase.
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return 0; }

struct FileStamp {
  bool exists = false;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  bool operator==(const FileStamp& o) const {
    return exists == o.exists && inode == o.inode && size == o.size && modified.tv_sec == o.modified.tv_sec &&
           modified.tv_nsec == o.modified.tv_nsec;
  }
};

FileStamp stamp_of(const std::string& path) {
  FileStamp stamp;
  struct stat status {};
  if (path.empty() || ::stat(path.c_str(), &status) != 0) return stamp;
  stamp.exists = true;
  stamp.inode = status.st_ino;
  stamp.size = status.st_size;
  stamp.modified = status.st_mtim;
  return stamp;
}

}  // namespace

void share_system_trust_store() {
  system_bundle_path() = system_bundle();
  // OpenSSL ignores a default file that holds no certificate; the hashed directory stays.
  ::setenv(X509_get_default_cert_file_env(), "/dev/null", 1);
}

// What every connection of the origin shares: the trust store and the client pair. Immutable.
struct TlsClientSetup::Material {
  std::array<FileStamp, 3> stamps;  // CA file, client certificate, client key, when read
  X509_STORE* store = nullptr;
  X509* certificate = nullptr;
  std::vector<X509*> chain;
  EVP_PKEY* key = nullptr;

  Material() = default;
  Material(const Material&) = delete;
  Material& operator=(const Material&) = delete;
  ~Material() {
    X509_STORE_free(store);
    X509_free(certificate);
    for (X509* c : chain) X509_free(c);
    EVP_PKEY_free(key);
  }
};

namespace {

// The trust store: the CA file alone (a kubeconfig CA pins the cluster's own CA), else the system
// bundle and its hashed directory.
X509_STORE* build_store(const std::string& ca_file) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) throw FetchError(FetchError::Kind::Protocol, "cannot allocate a trust store");
  const std::string file = ca_file.empty() ? system_bundle() : ca_file;
  if (X509_STORE_load_file(store, file.c_str()) != 1) {
    if (!ca_file.empty()) {
      X509_STORE_free(store);
      fail_to_load("CA file", ca_file);
    }
    ERR_clear_error();  // no system bundle file: the directory may still hold the CAs
  }
  if (ca_file.empty()) {
    const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
    X509_STORE_load_path(store, dir_env != nullptr ? dir_env : X509_get_default_cert_dir());
    ERR_clear_error();
  }
  return store;
}

// The client certificate (with the chain after it in the file) and its key; what was read so far is
// the caller's to free when this throws.
void load_client_pair(const std::string& cert_file, const std::string& key_file, X509*& certificate,
                      std::vector<X509*>& chain, EVP_PKEY*& key) {
  BIO* bio = BIO_new_file(cert_file.c_str(), "r");
  if (bio == nullptr) fail_to_load("client certificate", cert_file);
  certificate = PEM_read_bio_X509_AUX(bio, nullptr, refuse_passphrase, nullptr);
  while (certificate != nullptr) {
    X509* next = PEM_read_bio_X509(bio, nullptr, refuse_passphrase, nullptr);
    if (next == nullptr) break;
    chain.push_back(next);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (certificate == nullptr) fail_to_load("client certificate", cert_file);
  bio = BIO_new_file(key_file.c_str(), "r");
  if (bio != nullptr) key = PEM_read_bio_PrivateKey(bio, nullptr, refuse_passphrase, nullptr);
  BIO_free(bio);
  if (key == nullptr) fail_to_load("client key", key_file);
  if (X509_check_private_key(certificate, key) != 1) {
    fail_to_load("client key (it does not match the certificate)", key_file);
  }
}

}  // namespace

TlsClientSetup::TlsClientSetup(const FetcherOptions& options)
    : ca_file_(options.ca_file),
      client_cert_file_(options.client_cert_file),
      client_key_file_(options.client_key_file) {}

TlsClientSetup::~TlsClientSetup() = default;

std::shared_ptr<const TlsClientSetup::Material> TlsClientSetup::material() {
  std::lock_guard lock(material_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (material_ && now < next_look_) return material_;
  next_look_ = now + kLookInterval;
  std::array<FileStamp, 3> stamps{stamp_of(ca_file_), stamp_of(client_cert_file_), stamp_of(client_key_file_)};
  if (material_ && material_->stamps == stamps) return material_;
  if (!client_cert_file_.empty() || !client_key_file_.empty()) {
    if (client_cert_file_.empty() || client_key_file_.empty()) {
      throw FetchError(FetchError::Kind::Protocol, "a client certificate needs both a certificate file and a key file");
    }
  }
  try {
    auto built = std::make_shared<Material>();
    built->stamps = stamps;
    built->store = build_store(ca_file_);
    if (!client_cert_file_.empty()) {
      load_client_pair(client_cert_file_, client_key_file_, built->certificate, built->chain, built->key);
    }
    material_ = std::move(built);
  } catch (const FetchError&) {
    // A file caught mid-rewrite, or broken: connections keep the material read before.
    if (!material_) throw;
  }
  return material_;
}

void TlsClientSetup::configure(boost::asio::ssl::context& context) {
  SSL_CTX* handle = context.native_handle();
  ERR_clear_error();
  context.set_options(boost::asio::ssl::context::default_workarounds |
                      boost::asio::ssl::context::no_sslv2 | boost::asio::ssl::context::no_sslv3 |
                      boost::asio::ssl::context::no_tlsv1 | boost::asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(handle, refuse_passphrase);

  std::shared_ptr<const Material> shared = material();
  // Shared, not copied: the context takes a reference to the store, certificate and key.
  SSL_CTX_set1_cert_store(handle, shared->store);
  if (shared->certificate != nullptr) {
    if (SSL_CTX_use_certificate(handle, shared->certificate) != 1 ||
        SSL_CTX_use_PrivateKey(handle, shared->key) != 1) {
      fail_to_load("client certificate", client_cert_file_);
    }
    for (X509* link : shared->chain) {
      if (SSL_CTX_add1_chain_cert(handle, link) != 1) fail_to_load("client certificate chain", client_cert_file_);
    }
  }
  // Wraps the whole chain check; cpprestsdk's own per-certificate callback (which checks the
  // host name) still runs inside X509_verify_cert.
  SSL_CTX_set_cert_verify_callback(handle, &TlsClientSetup::verify_and_remember, this);
}

int TlsClientSetup::verify_and_remember(X509_STORE_CTX* store, void* self) {
  const int verified = X509_verify_cert(store);
  auto* setup = static_cast<TlsClientSetup*>(self);
  if (verified > 0) {
    setup->remember({});
  } else {
    const int error = X509_STORE_CTX_get_error(store);
    // The chain was fine and cpprestsdk's host-name callback refused the leaf: OpenSSL records
    // no reason of its own for that (3.x says "unspecified").
    const bool host_name_refused = error == X509_V_OK || error == X509_V_ERR_UNSPECIFIED;
    setup->remember(host_name_refused
                        ? std::string("the server certificate does not match the host name")
                        : std::string("server certificate not trusted: ") +
                              X509_verify_cert_error_string(error));
  }
  return verified;
}

void TlsClientSetup::remember(std::string reason) {
  std::lock_guard lock(mutex_);
  last_failure_ = std::move(reason);
}

std::string TlsClientSetup::last_verification_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

}  // namespace sma::http
