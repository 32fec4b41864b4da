#include "control/transport/tls_certificates.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tern::ctl {
namespace {

constexpr size_t kMaxPemFile = 1 << 20;  // a chain of a few certificates is a few kilobytes

using FilePtr = std::unique_ptr<FILE, OpenSslFree<fclose>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;

std::optional<std::string> read_file(const std::string& path, std::string& error) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    error = path + ": cannot open: " + std::strerror(errno);
    return std::nullopt;
  }
  // Room for the whole file at once: a key's bytes are not left behind in a reallocation.
  std::string data;
  struct stat st {};
  if (fstat(fileno(file.get()), &st) == 0 && st.st_size > 0)
    data.reserve(std::min(static_cast<size_t>(st.st_size), kMaxPemFile) + 1);
  char block[4096];
  bool ok = true;
  while (const size_t n = std::fread(block, 1, sizeof block, file.get())) {
    data.append(block, n);
    if (data.size() > kMaxPemFile) {
      error = path + ": larger than 1 MiB, not a PEM certificate or key";
      ok = false;
      break;
    }
  }
  if (ok && std::ferror(file.get())) {
    error = path + ": cannot read: " + std::strerror(errno);
    ok = false;
  }
  OPENSSL_cleanse(block, sizeof block);
  if (!ok) return std::nullopt;
  return data;
}

// Wipes a private key's PEM text once it is parsed.
struct WipeOnExit {
  std::string& text;
  ~WipeOnExit() { OPENSSL_cleanse(text.data(), text.size()); }
};

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The end of a PEM file: no further "-----BEGIN" line.
bool at_end_of_pem() {
  const unsigned long last = ERR_peek_last_error();
  return ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
}

// PEM's passphrase callback: tern takes no passphrases (it could not ask anyone for one), so an
// encrypted key is an error that says so rather than a prompt on a terminal nobody watches.
int no_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

time_t to_time(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return timegm(&tm);
}

std::string utc(time_t t) {
  struct tm tm {};
  char text[32];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    return std::to_string(t);
  return text;
}

std::string days(time_t seconds) {
  const time_t n = seconds / 86400;
  if (n == 0) return "less than a day";
  return std::to_string(n) + (n == 1 ? " day" : " days");
}

std::string key_type(EVP_PKEY* key) {
  if (key == nullptr) return "none";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[80] = {};
      size_t length = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) return "ECDSA";
      const int nid = OBJ_txt2nid(group);
      const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
      return std::string("ECDSA ") + (nist != nullptr ? nist : group);
    }
    case EVP_PKEY_RSA: return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
    default: {
      const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
      return name != nullptr ? name : "unknown";
    }
  }
}

void subject_alt_names(X509* certificate, TlsCertificateInfo& info) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* dns = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int length = ASN1_STRING_length(ip);
      char text[INET6_ADDRSTRLEN] = {};
      if ((length == 4 || length == 16) &&
          inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text,
                    sizeof text) != nullptr)
        info.ip_addresses.emplace_back(text);
    }
  }
}

// The validity window of one certificate of the file against `now`.
void check_validity(const std::string& file, std::string_view which, X509* certificate, time_t now,
                    std::vector<std::string>& errors, std::vector<std::string>& warnings) {
  const time_t not_before = to_time(X509_get0_notBefore(certificate));
  const time_t not_after = to_time(X509_get0_notAfter(certificate));
  const std::string prefix = file + ": " + std::string(which);
  if (now > not_after)
    errors.push_back(prefix + "expired " + days(now - not_after) + " ago (notAfter " +
                     utc(not_after) + ")");
  else if (now < not_before)
    errors.push_back(prefix + "not valid yet: notBefore " + utc(not_before) + " is in " +
                     days(not_before - now));
  else if (not_after - now < kCertificateExpiryWarning)
    warnings.push_back(prefix + "expires in " + days(not_after - now) + " (notAfter " +
                       utc(not_after) + ")");
}

bool key_matches(const LoadedCertificate& loaded) {
  const bool match = X509_check_private_key(loaded.certificate.get(), loaded.key.get()) == 1;
  ERR_clear_error();
  return match;
}

}  // namespace

bool check_paths(const TlsCertificate& files, size_t index, std::string& error) {
  const std::string setting = "certificates[" + std::to_string(index) + "]";
  if (files.certificate.empty())
    error = setting + ".certificate: empty, expected the certificate chain's PEM file";
  else if (files.private_key.empty())
    error =
        setting + ".private_key: empty, expected the PEM file of " + files.certificate + "'s key";
  else
    return true;
  return false;
}

bool check_key(const TlsCertificate& files, const LoadedCertificate& loaded, std::string& error) {
  EVP_PKEY* key = loaded.key.get();
  const int type = EVP_PKEY_get_base_id(key);
  if (type != EVP_PKEY_EC && type != EVP_PKEY_RSA) {
    error = files.private_key + ": a " + key_type(key) + " key; tern takes ECDSA and RSA keys";
    return false;
  }
  if (type == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) < 2048) {
    error = files.private_key + ": an RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
            " bits; at least 2048 are needed";
    return false;
  }
  if (!key_matches(loaded)) {
    error = files.private_key + " (" + key_type(key) + ") is not the key of " + files.certificate +
            " (" + key_type(X509_get0_pubkey(loaded.certificate.get())) + ")";
    return false;
  }
  return true;
}

bool KeyTypes::add(const TlsCertificate& files, const LoadedCertificate& loaded,
                   std::string& error) {
  const bool ec = EVP_PKEY_get_base_id(X509_get0_pubkey(loaded.certificate.get())) == EVP_PKEY_EC;
  std::string& seen = ec ? ecdsa_ : rsa_;
  if (!seen.empty()) {
    error = files.certificate + ": a second " + (ec ? "ECDSA" : "RSA") + " certificate (" + seen +
            " is one): at most one of each key type";
    return false;
  }
  seen = files.certificate;
  return true;
}

std::optional<LoadedCertificate> load_certificate(const TlsCertificate& files, std::string& error) {
  ERR_clear_error();
  const auto pem = read_file(files.certificate, error);
  if (!pem) return std::nullopt;
  LoadedCertificate loaded;
  BioPtr bio = memory_bio(*pem);
  loaded.certificate.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!loaded.certificate) {
    error = files.certificate + ": no PEM certificate: " + openssl_errors();
    return std::nullopt;
  }
  // The rest of the file: intermediates, in order towards the root.
  for (;;) {
    X509Ptr next(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!next) {
      if (at_end_of_pem()) break;
      error = files.certificate + ": certificate " +
              std::to_string(loaded.intermediates.size() + 2) +
              " is not a valid PEM certificate: " + openssl_errors();
      return std::nullopt;
    }
    loaded.intermediates.push_back(std::move(next));
  }
  ERR_clear_error();

  auto key_pem = read_file(files.private_key, error);
  if (!key_pem) return std::nullopt;
  const WipeOnExit wipe{*key_pem};
  bool asked = false;
  BioPtr key_bio = memory_bio(*key_pem);
  loaded.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, &asked));
  if (!loaded.key) {
    error = asked ? files.private_key +
                        ": the private key is encrypted; tern needs it without a passphrase"
                  : files.private_key + ": no PEM private key: " + openssl_errors();
    ERR_clear_error();
    return std::nullopt;
  }
  ERR_clear_error();
  return loaded;
}

TlsCertificateInfo describe(const TlsCertificate& files, const LoadedCertificate& loaded) {
  TlsCertificateInfo info;
  X509* certificate = loaded.certificate.get();
  info.certificate = files.certificate;
  info.private_key = files.private_key;
  info.key_type = key_type(X509_get0_pubkey(certificate));
  info.key_matches = key_matches(loaded);
  info.subject = name_text(X509_get_subject_name(certificate));
  info.issuer = name_text(X509_get_issuer_name(certificate));
  subject_alt_names(certificate, info);
  info.not_before = to_time(X509_get0_notBefore(certificate));
  info.not_after = to_time(X509_get0_notAfter(certificate));
  info.intermediates = loaded.intermediates.size();
  ERR_clear_error();
  return info;
}

std::vector<TlsCertificateInfo> inspect(const TlsSettings& settings, time_t now,
                                        std::vector<std::string>& errors,
                                        std::vector<std::string>& warnings) {
  std::vector<TlsCertificateInfo> out;
  if (settings.certificates.empty()) errors.emplace_back(kNoCertificates);
  KeyTypes seen;
  for (size_t i = 0; i < settings.certificates.size(); ++i) {
    const TlsCertificate& files = settings.certificates[i];
    std::string error;
    if (!check_paths(files, i, error)) {
      errors.push_back(error);
      continue;
    }
    const auto loaded = load_certificate(files, error);
    if (!loaded) {
      errors.push_back(error);
      continue;
    }
    if (!check_key(files, *loaded, error) || !seen.add(files, *loaded, error))
      errors.push_back(error);
    out.push_back(describe(files, *loaded));
    const TlsCertificateInfo& info = out.back();

    check_validity(files.certificate, "", loaded->certificate.get(), now, errors, warnings);
    for (size_t k = 0; k < loaded->intermediates.size(); ++k) {
      X509* intermediate = loaded->intermediates[k].get();
      const std::string which = "intermediate " + std::to_string(k + 1) + " (" +
                                name_text(X509_get_subject_name(intermediate)) + ") ";
      check_validity(files.certificate, which, intermediate, now, errors, warnings);
    }
    if (info.dns_names.empty() && info.ip_addresses.empty())
      warnings.push_back(
          files.certificate +
          ": no subjectAltName: clients match the server's name against its DNS and IP "
          "subjectAltName entries, not the subject's CN (RFC 9525)");
    // Each certificate after the first should have issued the one before it.
    X509* issued = loaded->certificate.get();
    for (size_t k = 0; k < loaded->intermediates.size(); ++k) {
      X509* issuer = loaded->intermediates[k].get();
      if (X509_check_issued(issuer, issued) != X509_V_OK) {
        warnings.push_back(files.certificate + ": certificate " + std::to_string(k + 2) + " (" +
                           name_text(X509_get_subject_name(issuer)) +
                           ") did not issue certificate " + std::to_string(k + 1) + " (" +
                           name_text(X509_get_subject_name(issued)) +
                           "): the chain is out of order or incomplete");
        break;
      }
      issued = issuer;
    }
    ERR_clear_error();
  }
  return out;
}

}  // namespace tern::ctl
