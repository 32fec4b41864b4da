#include "control/transport/tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>

#include "control/transport/tls_ticket_keys.hpp"
#include "tests/unit/transport/tls_test_pki.hpp"

namespace tern::ctl {
namespace {

using namespace testing_pki;

constexpr int64_t kHour = 3600;
constexpr time_t kDay = 86400;

// RSA keys take a while to make: one for the whole run.
EVP_PKEY* shared_rsa_key() {
  static EvpPkeyPtr key = rsa_key(2048);
  return key.get();
}

// ---- an OpenSSL client and a driver for both ends over a socketpair ---------------------------

struct ClientOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  const char* sigalgs = nullptr;  // nullptr: OpenSSL's
  std::vector<std::string> alpn;  // empty: no ALPN extension at all
  SSL_SESSION* resume = nullptr;  // offer this session (its ticket)
};

struct Outcome {
  TlsHandshakeStep server;  // the server's last step
  bool client_done = false;
  int client_reason = 0;  // ERR_GET_REASON of the client's error when it failed
  int client_alert = -1;  // the fatal alert the client received, if any
  SslSessionPtr session;  // the client's session after the handshake (with its ticket)
  SslPtr server_ssl;
  SslPtr client_ssl;
  int fds[2] = {-1, -1};

  ~Outcome() {
    server_ssl.reset();
    client_ssl.reset();
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  bool done() const { return client_done && server.status == TlsHandshakeStep::Status::done; }
  bool resumed() const {
    return done() && SSL_session_reused(server_ssl.get()) && SSL_session_reused(client_ssl.get());
  }
  std::string version() const { return SSL_get_version(server_ssl.get()); }
  int peer_key_type() const {
    X509* peer = SSL_get0_peer_certificate(client_ssl.get());
    return peer != nullptr ? EVP_PKEY_get_base_id(X509_get0_pubkey(peer)) : 0;
  }
};

std::vector<uint8_t> ticket_of(const SSL_SESSION* session) {
  const unsigned char* ticket = nullptr;
  size_t length = 0;
  if (session != nullptr) SSL_SESSION_get0_ticket(session, &ticket, &length);
  return {ticket, ticket + length};
}

void note_alert(const SSL* ssl, int where, int value) {
  auto* outcome = static_cast<Outcome*>(SSL_get_app_data(ssl));
  if ((where & SSL_CB_READ_ALERT) && (value >> 8) == SSL3_AL_FATAL && outcome->client_alert < 0)
    outcome->client_alert = value & 0xff;
}

SslCtxPtr client_context(X509* root, const ClientOptions& options) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), options.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  if (options.sigalgs != nullptr) SSL_CTX_set1_sigalgs_list(ctx.get(), options.sigalgs);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), root);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_info_callback(ctx.get(), note_alert);
  return ctx;
}

// Runs a handshake between `server` and a client made from `options`, both non-blocking, each
// side stepping in turn until both are finished, then lets the client read what the server sent
// after its handshake (TLS 1.3 tickets).
std::unique_ptr<Outcome> drive(SslPtr server, X509* root, const ClientOptions& options) {
  auto out = std::make_unique<Outcome>();
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, out->fds), 0);
  const SslCtxPtr client_ctx = client_context(root, options);
  out->client_ssl.reset(SSL_new(client_ctx.get()));
  SSL* client = out->client_ssl.get();
  SSL_set_app_data(client, out.get());
  SSL_set_fd(client, out->fds[1]);
  SSL_set_connect_state(client);
  // The client checks the certificate's chain to the root and its IP subjectAltName.
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(client), "127.0.0.1");
  if (!options.alpn.empty()) {
    std::vector<uint8_t> wire;
    for (const std::string& name : options.alpn) {
      wire.push_back(static_cast<uint8_t>(name.size()));
      wire.insert(wire.end(), name.begin(), name.end());
    }
    EXPECT_EQ(SSL_set_alpn_protos(client, wire.data(), static_cast<unsigned>(wire.size())), 0);
  }
  if (options.resume != nullptr) SSL_set_session(client, options.resume);
  out->server_ssl = std::move(server);
  SSL_set_fd(out->server_ssl.get(), out->fds[0]);

  bool client_finished = false;
  bool server_finished = false;
  for (int round = 0; round < 64 && !(client_finished && server_finished); ++round) {
    if (!client_finished) {
      ERR_clear_error();
      const int ret = SSL_do_handshake(client);
      if (ret == 1) {
        out->client_done = client_finished = true;
      } else if (const int e = SSL_get_error(client, ret);
                 e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        client_finished = true;
        out->client_reason = ERR_GET_REASON(ERR_peek_error());
      }
      ERR_clear_error();
    }
    if (!server_finished) {
      out->server = TlsContext::handshake(out->server_ssl.get());
      server_finished = out->server.status == TlsHandshakeStep::Status::done ||
                        out->server.status == TlsHandshakeStep::Status::failed;
    }
  }
  EXPECT_TRUE(client_finished && server_finished) << "the handshake did not finish";
  if (out->client_done) {
    char byte;
    for (int i = 0; i < 4; ++i) SSL_read(client, &byte, 1);  // takes the tickets, then wants more
    ERR_clear_error();
    out->session.reset(SSL_get1_session(client));
  }
  return out;
}

class TlsFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }

  TlsFixture()
      : pki_(time(nullptr)),
        ec_(ec_key()),
        ecdsa_(pki_.issue("ecdsa", ec_.get())),
        rsa_(pki_.issue("rsa", shared_rsa_key())) {}

  TlsSettings settings(bool ecdsa = true, bool rsa = true) const {
    TlsSettings s;
    if (ecdsa) s.certificates.push_back({ecdsa_.certificate, ecdsa_.private_key});
    if (rsa) s.certificates.push_back({rsa_.certificate, rsa_.private_key});
    return s;
  }
  static std::unique_ptr<TlsContext> make(const TlsSettings& s) {
    std::string error;
    auto context = TlsContext::create(s, error);
    EXPECT_NE(context, nullptr) << error;
    return context;
  }
  static std::string create_error(const TlsSettings& s) {
    std::string error;
    EXPECT_EQ(TlsContext::create(s, error), nullptr);
    return error;
  }
  std::unique_ptr<Outcome> handshake(const TlsContext& tls, const ClientOptions& options) const {
    return drive(tls.new_connection(), pki_.root(), options);
  }
  static ClientOptions only(int version) {
    ClientOptions o;
    o.min_version = o.max_version = version;
    return o;
  }

  Pki pki_;
  EvpPkeyPtr ec_;
  Pki::Files ecdsa_;
  Pki::Files rsa_;
};

// ---- handshakes: versions and certificates ----------------------------------------------------

struct VersionAndKey {
  int version;
  int key_type;  // EVP_PKEY_EC or EVP_PKEY_RSA
};
std::string name_of(const ::testing::TestParamInfo<VersionAndKey>& info) {
  return std::string(info.param.version == TLS1_3_VERSION ? "Tls13" : "Tls12") +
         (info.param.key_type == EVP_PKEY_EC ? "Ecdsa" : "Rsa");
}

class Handshakes : public TlsFixture, public ::testing::WithParamInterface<VersionAndKey> {};

TEST_P(Handshakes, CompleteWithTheCertificateTheClientsSignatureAlgorithmsAsk) {
  const auto [version, key_type] = GetParam();
  auto tls = make(settings());  // both certificates loaded: OpenSSL picks per client
  ClientOptions client = only(version);
  client.sigalgs =
      key_type == EVP_PKEY_EC ? "ecdsa_secp256r1_sha256" : "rsa_pss_rsae_sha256:rsa_pkcs1_sha256";
  const auto r = handshake(*tls, client);
  ASSERT_TRUE(r->done()) << r->server.detail;
  EXPECT_EQ(r->version(), version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
  EXPECT_EQ(r->peer_key_type(), key_type);  // and the client verified it against the root
  EXPECT_EQ(TlsContext::application(r->server_ssl.get()), TlsApplication::none);
  const TlsStats stats = tls->stats();
  EXPECT_EQ(stats.handshakes_tls12, version == TLS1_2_VERSION ? 1u : 0u);
  EXPECT_EQ(stats.handshakes_tls13, version == TLS1_3_VERSION ? 1u : 0u);
  EXPECT_EQ(stats.resumptions, 0u);
  // Asking again once it is done answers done and counts nothing.
  EXPECT_EQ(TlsContext::handshake(r->server_ssl.get()).status, TlsHandshakeStep::Status::done);
  EXPECT_EQ(tls->stats().handshakes(), 1u);
}

INSTANTIATE_TEST_SUITE_P(TlsContext, Handshakes,
                         ::testing::Values(VersionAndKey{TLS1_2_VERSION, EVP_PKEY_EC},
                                           VersionAndKey{TLS1_2_VERSION, EVP_PKEY_RSA},
                                           VersionAndKey{TLS1_3_VERSION, EVP_PKEY_EC},
                                           VersionAndKey{TLS1_3_VERSION, EVP_PKEY_RSA}),
                         name_of);

using TlsContextTest = TlsFixture;

TEST_F(TlsContextTest, NoCertificateTheClientAcceptsIsNoSharedCipher) {
  auto tls = make(settings(/*ecdsa=*/true, /*rsa=*/false));
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions client = only(version);
    client.sigalgs = "rsa_pss_rsae_sha256:rsa_pkcs1_sha256";  // an RSA-only client
    const auto r = handshake(*tls, client);
    EXPECT_EQ(r->server.status, TlsHandshakeStep::Status::failed);
    EXPECT_EQ(r->server.failure, TlsFailure::no_shared_cipher) << r->server.detail;
    EXPECT_FALSE(r->client_done);
  }
  EXPECT_EQ(tls->stats().failed(TlsFailure::no_shared_cipher), 2u);
}

TEST_F(TlsContextTest, MinVersion13RefusesATls12OnlyClient) {
  TlsSettings s = settings();
  s.min_version = TlsVersion::tls1_3;
  auto tls = make(s);
  const auto r = handshake(*tls, only(TLS1_2_VERSION));
  EXPECT_EQ(r->server.status, TlsHandshakeStep::Status::failed);
  EXPECT_EQ(r->server.failure, TlsFailure::no_shared_version) << r->server.detail;
  EXPECT_FALSE(r->client_done);
  EXPECT_EQ(r->client_alert, SSL_AD_PROTOCOL_VERSION);
  EXPECT_EQ(tls->stats().failed(TlsFailure::no_shared_version), 1u);
  // TLS 1.3 clients are served.
  EXPECT_TRUE(handshake(*tls, only(TLS1_3_VERSION))->done());
}

// ---- ALPN ------------------------------------------------------------------------------------

TEST_F(TlsContextTest, AlpnSelectsStunTurn) {
  auto tls = make(settings());
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions client = only(version);
    client.alpn = {"stun.turn"};
    const auto r = handshake(*tls, client);
    ASSERT_TRUE(r->done()) << r->server.detail;
    EXPECT_EQ(TlsContext::application(r->server_ssl.get()), TlsApplication::turn);
    const unsigned char* name = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(r->client_ssl.get(), &name, &length);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(name), length), "stun.turn");
  }
}

TEST_F(TlsContextTest, NoAlpnExtensionIsServedAsTurn) {
  auto tls = make(settings());
  const auto r = handshake(*tls, {});
  ASSERT_TRUE(r->done());
  EXPECT_EQ(TlsContext::application(r->server_ssl.get()), TlsApplication::none);
}

TEST_F(TlsContextTest, OnlyOtherProtocolsAreRefusedWithNoApplicationProtocol) {
  auto tls = make(settings());
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions client = only(version);
    client.alpn = {"h2"};
    const auto r = handshake(*tls, client);
    EXPECT_EQ(r->server.status, TlsHandshakeStep::Status::failed);
    EXPECT_EQ(r->server.failure, TlsFailure::alpn_refused) << r->server.detail;
    // The client was told why: alert 120, no_application_protocol (RFC 7301 §3.2).
    EXPECT_FALSE(r->client_done);
    EXPECT_EQ(r->client_alert, 120);
    EXPECT_EQ(r->client_reason, SSL_AD_REASON_OFFSET + SSL_AD_NO_APPLICATION_PROTOCOL);
  }
  EXPECT_EQ(tls->stats().failed(TlsFailure::alpn_refused), 2u);
  EXPECT_EQ(tls->stats().handshakes(), 0u);
}

TEST_F(TlsContextTest, CoturnsClientListGetsStunTurn) {
  // turnutils_uclient offers these three, in this order.
  const std::vector<std::string> uclient = {"http/1.1", "stun.turn", "stun.nat-discovery"};
  for (bool alpn_http : {false, true}) {
    TlsSettings s = settings();
    s.alpn_http = alpn_http;
    auto tls = make(s);
    ClientOptions client;
    client.alpn = uclient;
    const auto r = handshake(*tls, client);
    ASSERT_TRUE(r->done()) << r->server.detail;
    EXPECT_EQ(TlsContext::application(r->server_ssl.get()), TlsApplication::turn) << alpn_http;
  }
}

TEST_F(TlsContextTest, HttpIsSelectedOnlyWhenTheSettingsAcceptIt) {
  ClientOptions client;
  client.alpn = {"http/1.1"};
  auto plain = make(settings());
  EXPECT_EQ(handshake(*plain, client)->server.failure, TlsFailure::alpn_refused);
  TlsSettings s = settings();
  s.alpn_http = true;
  auto with_http = make(s);
  const auto r = handshake(*with_http, client);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(TlsContext::application(r->server_ssl.get()), TlsApplication::http);
}

TEST(TlsAlpn, SelectsByOurPreferenceAndRejectsMalformedLists) {
  auto wire = [](std::initializer_list<std::string_view> names) {
    std::vector<uint8_t> out;
    for (auto name : names) {
      out.push_back(static_cast<uint8_t>(name.size()));
      out.insert(out.end(), name.begin(), name.end());
    }
    return out;
  };
  auto text = [](std::optional<std::span<const uint8_t>> s) {
    return s ? std::string(s->begin(), s->end()) : std::string("(none)");
  };
  EXPECT_EQ(text(select_alpn(wire({"http/1.1", "stun.turn"}), true)), "stun.turn");
  EXPECT_EQ(text(select_alpn(wire({"http/1.1", "h2"}), true)), "http/1.1");
  EXPECT_EQ(text(select_alpn(wire({"http/1.1", "h2"}), false)), "(none)");
  EXPECT_EQ(text(select_alpn(wire({"stun.turnx", "stun.tur"}), false)), "(none)");
  const std::vector<uint8_t> overrun = {20, 's', 't', 'u', 'n'};
  EXPECT_EQ(text(select_alpn(overrun, true)), "(none)");
  const std::vector<uint8_t> empty_name = {0, 9, 's', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};
  EXPECT_EQ(text(select_alpn(empty_name, true)), "(none)");
  EXPECT_EQ(application_of("stun.turn"), TlsApplication::turn);
  EXPECT_EQ(application_of(""), TlsApplication::none);
}

// ---- session tickets -------------------------------------------------------------------------

class Tickets : public TlsFixture, public ::testing::WithParamInterface<int> {};

TEST_P(Tickets, ResumeWithinAPeriodAcrossOneRotationAndNotAfterTwo) {
  const int version = GetParam();
  auto tls = make(settings());
  const int64_t t0 = 1'000'000;
  EXPECT_FALSE(tls->tick(t0));  // starts the first key's lifetime
  const auto first_key = tls->ticket_keys().current_name();
  ASSERT_TRUE(first_key);

  const auto full = handshake(*tls, only(version));
  ASSERT_TRUE(full->done());
  ASSERT_TRUE(SSL_SESSION_is_resumable(full->session.get()));
  const std::vector<uint8_t> ticket_a = ticket_of(full->session.get());
  ASSERT_GE(ticket_a.size(), TlsTicketKeys::kNameSize);
  EXPECT_TRUE(std::equal(first_key->begin(), first_key->end(), ticket_a.begin()));

  // Within the key's lifetime: resumed.
  EXPECT_FALSE(tls->tick(t0 + 12 * kHour - 1));
  ClientOptions resume_a = only(version);
  resume_a.resume = full->session.get();
  const auto within = handshake(*tls, resume_a);
  EXPECT_TRUE(within->resumed());
  if (version == TLS1_2_VERSION) {  // a ticket under the current key is not renewed
    EXPECT_EQ(ticket_of(within->session.get()), ticket_a);
  }

  // One rotation: the first key only decrypts now. Resumed, and a new ticket under the new key.
  EXPECT_TRUE(tls->tick(t0 + 12 * kHour));
  const auto second_key = tls->ticket_keys().current_name();
  ASSERT_TRUE(second_key);
  EXPECT_NE(*second_key, *first_key);
  EXPECT_EQ(tls->ticket_keys().size(), 2u);
  const auto renewed = handshake(*tls, resume_a);
  EXPECT_TRUE(renewed->resumed());
  const std::vector<uint8_t> ticket_b = ticket_of(renewed->session.get());
  ASSERT_GE(ticket_b.size(), TlsTicketKeys::kNameSize);
  EXPECT_NE(ticket_b, ticket_a);
  EXPECT_TRUE(std::equal(second_key->begin(), second_key->end(), ticket_b.begin()));

  // Two rotations: the first key is gone, its ticket means a full handshake; the renewed ticket
  // (under the second key, now the previous one) still resumes.
  EXPECT_TRUE(tls->tick(t0 + 24 * kHour));
  const uint64_t unknown_before = tls->stats().tickets_unknown_key;
  const auto stale = handshake(*tls, resume_a);
  ASSERT_TRUE(stale->done());
  EXPECT_FALSE(SSL_session_reused(stale->server_ssl.get()));
  EXPECT_FALSE(SSL_session_reused(stale->client_ssl.get()));
  EXPECT_EQ(tls->stats().tickets_unknown_key, unknown_before + 1);
  ClientOptions resume_b = only(version);
  resume_b.resume = renewed->session.get();
  EXPECT_TRUE(handshake(*tls, resume_b)->resumed());

  const TlsStats stats = tls->stats();
  EXPECT_EQ(stats.resumptions, 3u);
  EXPECT_EQ(stats.handshakes(), 5u);
  EXPECT_EQ(stats.ticket_key_rotations, 2u);
  EXPECT_GE(stats.tickets_issued, 3u);
}

TEST_P(Tickets, OffMeansNoTicketAndNoResumption) {
  const int version = GetParam();
  TlsSettings s = settings();
  s.session_tickets = false;
  auto tls = make(s);
  const auto full = handshake(*tls, only(version));
  ASSERT_TRUE(full->done());
  EXPECT_TRUE(ticket_of(full->session.get()).empty());
  ClientOptions again = only(version);
  again.resume = full->session.get();
  const auto r = handshake(*tls, again);
  ASSERT_TRUE(r->done());
  EXPECT_FALSE(r->resumed());
  EXPECT_EQ(tls->stats().tickets_issued, 0u);
}

INSTANTIATE_TEST_SUITE_P(TlsContext, Tickets, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const ::testing::TestParamInfo<int>& version) {
                           return version.param == TLS1_3_VERSION ? "Tls13" : "Tls12";
                         });

TEST(TlsTicketKeys, RotateOncePerLifetime) {
  TlsTicketKeys keys(std::chrono::seconds(100));
  ASSERT_TRUE(keys.ready());
  const auto k1 = keys.current_name();
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_FALSE(keys.tick(5000));  // starts the lifetime
  EXPECT_FALSE(keys.tick(5099));
  EXPECT_EQ(keys.current_name(), k1);
  EXPECT_TRUE(keys.tick(5100));
  const auto k2 = keys.current_name();
  EXPECT_NE(k2, k1);
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_FALSE(keys.tick(5150));
  EXPECT_FALSE(keys.tick(4000));  // a clock going back changes nothing
  EXPECT_TRUE(keys.tick(5200));
  EXPECT_NE(keys.current_name(), k2);
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(TlsTicketKeys::callback_result(TlsTicketKeys::Use::decrypt_renew), 2);
  EXPECT_EQ(TlsTicketKeys::callback_result(TlsTicketKeys::Use::unknown), 0);
}

// ---- reload ----------------------------------------------------------------------------------

TEST_F(TlsContextTest, AReloadKeepsTicketsCountersAndConnectionsOfTheOldContext) {
  auto old_context = make(settings());
  old_context->tick(1000);
  const auto first = handshake(*old_context, only(TLS1_3_VERSION));
  ASSERT_TRUE(first->done());
  SslPtr pending = old_context->new_connection();  // accepted before the reload

  std::string error;
  TlsSettings s = settings(/*ecdsa=*/true, /*rsa=*/false);
  auto new_context = TlsContext::create(s, error, old_context.get());
  ASSERT_NE(new_context, nullptr) << error;
  old_context.reset();

  // The connection made from the old context still completes, with its callbacks (ALPN).
  ClientOptions client;
  client.alpn = {"stun.turn"};
  const auto r = drive(std::move(pending), pki_.root(), client);
  ASSERT_TRUE(r->done()) << r->server.detail;
  EXPECT_EQ(TlsContext::application(r->server_ssl.get()), TlsApplication::turn);
  // A ticket the old context issued resumes on the new one.
  ClientOptions resume = only(TLS1_3_VERSION);
  resume.resume = first->session.get();
  EXPECT_TRUE(handshake(*new_context, resume)->resumed());
  EXPECT_EQ(new_context->stats().handshakes(), 3u);
  EXPECT_EQ(new_context->stats().resumptions, 1u);
}

// ---- handshake failures ----------------------------------------------------------------------

TEST_F(TlsContextTest, NotTlsIsAProtocolError) {
  auto tls = make(settings());
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  const char request[] = "GET / HTTP/1.1\r\nHost: turn.test\r\n\r\n";
  ASSERT_EQ(write(fds[1], request, sizeof request - 1), static_cast<ssize_t>(sizeof request - 1));
  SslPtr ssl = tls->new_connection();
  SSL_set_fd(ssl.get(), fds[0]);
  const TlsHandshakeStep step = TlsContext::handshake(ssl.get());
  EXPECT_EQ(step.status, TlsHandshakeStep::Status::failed);
  EXPECT_EQ(step.failure, TlsFailure::protocol_error);
  EXPECT_NE(step.detail.find("http request"), std::string::npos) << step.detail;
  EXPECT_EQ(ERR_peek_error(), 0u);  // the queue is left empty
  EXPECT_EQ(tls->stats().failed(TlsFailure::protocol_error), 1u);
  ssl.reset();
  close(fds[0]);
  close(fds[1]);
}

TEST_F(TlsContextTest, AClientThatLeavesMidHandshakeIsClosed) {
  auto tls = make(settings());
  // The server waits for the client, which sends `what` and goes away.
  auto leave = [&](const std::function<void(int fd)>& what) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    SslPtr ssl = tls->new_connection();
    SSL_set_fd(ssl.get(), fds[0]);
    EXPECT_EQ(TlsContext::handshake(ssl.get()).status, TlsHandshakeStep::Status::want_read);
    what(fds[1]);
    close(fds[1]);
    TlsHandshakeStep step;
    step.status = TlsHandshakeStep::Status::want_read;
    for (int i = 0; i < 4 && step.status != TlsHandshakeStep::Status::failed; ++i)
      step = TlsContext::handshake(ssl.get());
    ssl.reset();
    close(fds[0]);
    return step;
  };
  // A whole ClientHello: the server answers into a closed socket (EPIPE; SIGPIPE is ignored).
  const TlsHandshakeStep hello = leave([&](int fd) {
    const SslCtxPtr client_ctx = client_context(pki_.root(), {});
    SslPtr client(SSL_new(client_ctx.get()));
    SSL_set_fd(client.get(), fd);
    SSL_set_connect_state(client.get());
    EXPECT_EQ(SSL_do_handshake(client.get()), -1);
    ERR_clear_error();
  });
  EXPECT_EQ(hello.status, TlsHandshakeStep::Status::failed);
  EXPECT_EQ(hello.failure, TlsFailure::closed) << hello.detail;
  EXPECT_EQ(hello.detail, "Broken pipe");
  // Part of a record, then EOF.
  const TlsHandshakeStep part = leave([](int fd) {
    const uint8_t record_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
    EXPECT_EQ(write(fd, record_start, sizeof record_start), 6);
  });
  EXPECT_EQ(part.status, TlsHandshakeStep::Status::failed);
  EXPECT_EQ(part.failure, TlsFailure::closed) << part.detail;
  // Nothing at all.
  const TlsHandshakeStep nothing = leave([](int) {});
  EXPECT_EQ(nothing.status, TlsHandshakeStep::Status::failed);
  EXPECT_EQ(nothing.failure, TlsFailure::closed) << nothing.detail;
  EXPECT_EQ(tls->stats().failed(TlsFailure::closed), 3u);
}

// ---- configuration errors --------------------------------------------------------------------

TEST_F(TlsContextTest, AKeyThatDoesNotMatchItsCertificateNamesBothFiles) {
  const EvpPkeyPtr other = ec_key();
  const std::string other_key = pki_.dir().file("other.key");
  ASSERT_TRUE(write_pem(other_key, {}, other.get()));
  TlsSettings s;
  s.certificates.push_back({ecdsa_.certificate, other_key});
  const std::string error = create_error(s);
  EXPECT_NE(error.find(other_key), std::string::npos) << error;
  EXPECT_NE(error.find(ecdsa_.certificate), std::string::npos) << error;
  EXPECT_NE(error.find("is not the key of"), std::string::npos) << error;
  // An RSA key for the ECDSA certificate too.
  s.certificates = {{ecdsa_.certificate, rsa_.private_key}};
  const std::string mixed = create_error(s);
  EXPECT_NE(mixed.find(rsa_.private_key + " (RSA 2048) is not the key of " + ecdsa_.certificate +
                       " (ECDSA P-256)"),
            std::string::npos)
      << mixed;
}

TEST_F(TlsContextTest, UnreadableFilesAreNamed) {
  TlsSettings s;
  const std::string missing = pki_.dir().file("missing.crt");
  s.certificates.push_back({missing, ecdsa_.private_key});
  std::string error = create_error(s);
  EXPECT_EQ(error, missing + ": cannot open: No such file or directory");

  s.certificates = {{ecdsa_.certificate, pki_.dir().file("")}};  // the directory itself
  error = create_error(s);
  EXPECT_NE(error.find(": cannot read: Is a directory"), std::string::npos) << error;

  const std::string garbage = pki_.dir().file("garbage.crt");
  std::ofstream(garbage) << "not a certificate\n";
  s.certificates = {{garbage, ecdsa_.private_key}};
  error = create_error(s);
  EXPECT_EQ(error.rfind(garbage + ": no PEM certificate: ", 0), 0u) << error;

  s.certificates = {{ecdsa_.certificate, ecdsa_.certificate}};  // a certificate, no key
  error = create_error(s);
  EXPECT_EQ(error.rfind(ecdsa_.certificate + ": no PEM private key", 0), 0u) << error;

  const std::string encrypted = pki_.dir().file("encrypted.key");
  ASSERT_TRUE(write_pem(encrypted, {}, ec_.get(), "secret"));
  s.certificates = {{ecdsa_.certificate, encrypted}};
  error = create_error(s);
  EXPECT_EQ(error,
            encrypted + ": the private key is encrypted; tern needs it without a passphrase");

  s.certificates = {{ecdsa_.certificate, ""}};
  EXPECT_EQ(create_error(s).rfind("certificates[0].private_key: empty", 0), 0u);

  if (geteuid() != 0) {  // root reads anything
    const std::string locked = pki_.dir().file("locked.key");
    ASSERT_TRUE(write_pem(locked, {}, ec_.get()));
    chmod(locked.c_str(), 0);
    s.certificates = {{ecdsa_.certificate, locked}};
    EXPECT_EQ(create_error(s), locked + ": cannot open: Permission denied");
  }
}

TEST_F(TlsContextTest, SettingsThatCannotWorkAreErrors) {
  TlsSettings s = settings();
  s.certificates.push_back({ecdsa_.certificate, ecdsa_.private_key});
  EXPECT_NE(create_error(s).find("a second ECDSA certificate"), std::string::npos);

  EXPECT_EQ(create_error(TlsSettings{}), kNoCertificates);

  s = settings();
  s.ciphers = "NOT-A-CIPHER";
  EXPECT_EQ(create_error(s).rfind("ciphers: no TLS 1.2 cipher suite in \"NOT-A-CIPHER\"", 0), 0u);

  s = settings();
  s.ciphersuites = "TLS_NOT_A_SUITE";
  EXPECT_EQ(create_error(s).rfind("ciphersuites: ", 0), 0u);

  s = settings(/*ecdsa=*/false, /*rsa=*/true);
  s.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  EXPECT_NE(create_error(s).find("can be used with the RSA certificate"), std::string::npos);

  s = settings();
  s.ticket_key_lifetime = std::chrono::seconds(8 * 86400);
  EXPECT_EQ(create_error(s), "ticket_key_lifetime: 691200 s is out of range (60-604800 s)");
  s.session_tickets = false;  // not used, not checked
  EXPECT_NE(make(s), nullptr);
}

// ---- certificate inspection ------------------------------------------------------------------

struct Inspection {
  std::vector<TlsCertificateInfo> info;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

Inspection run_inspect(const TlsSettings& settings, time_t now) {
  Inspection r;
  r.info = inspect(settings, now, r.errors, r.warnings);
  return r;
}

TEST_F(TlsContextTest, InspectDescribesEachCertificate) {
  const Inspection r = run_inspect(settings(), pki_.now());
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  ASSERT_EQ(r.info.size(), 2u);
  const TlsCertificateInfo& ec = r.info[0];
  EXPECT_EQ(ec.certificate, ecdsa_.certificate);
  EXPECT_EQ(ec.key_type, "ECDSA P-256");
  EXPECT_TRUE(ec.key_matches);
  EXPECT_EQ(ec.subject, "CN=turn.test,O=tern tests");
  EXPECT_EQ(ec.issuer, "CN=tern test intermediate,O=tern tests");
  EXPECT_EQ(ec.dns_names, std::vector<std::string>{"turn.test"});
  EXPECT_EQ(ec.ip_addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(ec.not_after, pki_.now() + 365 * kDay);
  EXPECT_EQ(ec.not_before, pki_.now() - kDay);
  EXPECT_EQ(ec.intermediates, 1u);
  EXPECT_EQ(r.info[1].key_type, "RSA 2048");

  const EvpPkeyPtr p384 = ec_key("P-384");
  const auto files = pki_.issue("p384", p384.get());
  TlsSettings s;
  s.certificates.push_back({files.certificate, files.private_key});
  EXPECT_EQ(run_inspect(s, pki_.now()).info.at(0).key_type, "ECDSA P-384");
}

TEST_F(TlsContextTest, InspectExpiredIsAnErrorExpiringAWarning) {
  const time_t now = pki_.now();
  const auto expired = pki_.issue("expired", ec_.get(),
                                  {.not_before = now - 400 * kDay, .not_after = now - 3 * kDay});
  const auto expiring = pki_.issue("expiring", shared_rsa_key(),
                                   {.not_before = now - 80 * kDay, .not_after = now + 10 * kDay});
  TlsSettings s;
  s.certificates = {{expired.certificate, expired.private_key}};
  Inspection r = run_inspect(s, now);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind(expired.certificate + ": expired 3 days ago (notAfter ", 0), 0u)
      << r.errors[0];
  EXPECT_EQ(r.info.size(), 1u);  // still described

  s.certificates = {{expiring.certificate, expiring.private_key}};
  r = run_inspect(s, now);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].rfind(expiring.certificate + ": expires in 10 days (notAfter ", 0), 0u)
      << r.warnings[0];

  // A context loads them all the same (OpenSSL does not look at its own certificate's dates);
  // not_after() is the earliest, for ternctl status.
  s.certificates = {{ecdsa_.certificate, ecdsa_.private_key},
                    {expiring.certificate, expiring.private_key}};
  auto tls = make(s);
  ASSERT_TRUE(tls->not_after());
  EXPECT_EQ(*tls->not_after(), now + 10 * kDay);
  EXPECT_EQ(tls->certificates().size(), 2u);
}

TEST_F(TlsContextTest, InspectNotYetValidIsAnError) {
  const time_t now = pki_.now();
  const auto future = pki_.issue("future", ec_.get(),
                                 {.not_before = now + 2 * kDay, .not_after = now + 365 * kDay});
  TlsSettings s;
  s.certificates = {{future.certificate, future.private_key}};
  const Inspection r = run_inspect(s, now);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind(future.certificate + ": not valid yet: notBefore ", 0), 0u);
  EXPECT_NE(r.errors[0].find("is in 2 days"), std::string::npos) << r.errors[0];
}

TEST_F(TlsContextTest, InspectReportsKeyMismatchUnreadableFilesAndOddChains) {
  const time_t now = pki_.now();
  TlsSettings s;
  s.certificates = {{ecdsa_.certificate, rsa_.private_key},
                    {pki_.dir().file("nope.crt"), rsa_.private_key}};
  Inspection r = run_inspect(s, now);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].find("is not the key of " + ecdsa_.certificate), std::string::npos);
  EXPECT_EQ(r.errors[1], pki_.dir().file("nope.crt") + ": cannot open: No such file or directory");
  ASSERT_EQ(r.info.size(), 1u);
  EXPECT_FALSE(r.info[0].key_matches);

  // The key in the certificate's file; no subjectAltName; a chain that does not chain.
  X509Ptr bare = pki_.leaf(ec_.get(), {.common_name = "bare",
                                       .not_before = now - kDay,
                                       .not_after = now + 365 * kDay,
                                       .subject_alt_name = ""});
  const std::string combined = pki_.dir().file("combined.pem");
  ASSERT_TRUE(write_pem(combined, {bare.get(), pki_.root()}, ec_.get()));
  s.certificates = {{combined, combined}};
  r = run_inspect(s, now);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].find("no subjectAltName"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[1].find("did not issue certificate 1 (CN=bare"), std::string::npos)
      << r.warnings[1];

  EXPECT_EQ(run_inspect(TlsSettings{}, now).errors,
            std::vector<std::string>{std::string(kNoCertificates)});
}

}  // namespace
}  // namespace tern::ctl
