// Verifies a connection's client certificate chain against one CA bundle, as a TLS server would
// for client authentication. The transport accepts any chain at the handshake; trust is decided
// here, per CA, so the front-proxy CA and the client CA stay separate. The bundle can be replaced
// while requests are verified (CA file rotation): each verification uses the bundle in force when
// it starts.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sma::auth {

struct VerifiedCertificate {
  std::string common_name;                 // the user, or the front proxy's name
  std::vector<std::string> organizations;  // groups for direct client certificates
};

class ClientCertificateVerifier {
 public:
  // pem holds one or more CA certificates; source names where they came from, for errors.
  // Throws std::runtime_error when no certificate can be read.
  ClientCertificateVerifier(const std::string& pem, const std::string& source);
  ~ClientCertificateVerifier();
  ClientCertificateVerifier(ClientCertificateVerifier&&) noexcept;
  ClientCertificateVerifier& operator=(ClientCertificateVerifier&&) noexcept;

  // chain_pem is leaf first, as the transport captured it. nullopt unless the leaf verifies to one
  // of the CAs (intermediates may come from the chain), is valid now, and may be used by a client.
  std::optional<VerifiedCertificate> verify(const std::vector<std::string>& chain_pem) const;

  // Puts a new bundle in force. Throws std::runtime_error (as the constructor) when no
  // certificate can be read; the bundle in force then stays. Thread-safe.
  void replace(const std::string& pem, const std::string& source);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sma::auth
