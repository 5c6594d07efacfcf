package dev.valet.client.transport.tcp;

import dev.valet.client.TestCertificates;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.TransportSecurity;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.TlsConfig;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.net.TlsContexts;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/** The handshake and TLS between a real donor process and the client transport. */
class AuthenticationProcessTest {
    @TempDir
    Path dir;

    /** A donor lending 64M, unlocked, with {@code donorYaml}'s settings too. */
    private DonorProcess donor(String name, String donorYaml) throws IOException {
        return DonorProcess.start(dir, name, "memory: 64M\nlockMemory: false\n" + donorYaml);
    }

    private static TcpTransport transport(ClusterSecret secret, SslContext tls) {
        return new TcpTransport(NettyTransport.select(), 1, Duration.ofSeconds(5),
                Duration.ofSeconds(5), 16, new TransportSecurity(secret, tls, false));
    }

    private static Throwable connectFailure(TcpTransport t, DonorAddress a, String identity) {
        try {
            DonorConnection c = t.connect(a, identity).join();
            c.close();
            throw new AssertionError("connected, but should have been refused");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    @Test
    void peersWithTheSameSecretConnectAndServe() throws Exception {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("cluster.secret"));
        try (DonorProcess d = donor("auth", "auth:\n  secretFile: " + secret.file() + "\n");
             TcpTransport t = transport(secret, null);
             DonorConnection c = t.connect(d.address(), "alpha").join()) {
            c.allocateSlab(1, 1 << 20).join();
            assertThat(c.listSlabs().join().slabs()).hasSize(1);
            assertThat(c.stats().join().clientCount()).isEqualTo(1);
            assertThat(c.hello().auth()).isNotNull();
        }
    }

    @Test
    void aClientWithoutOrWithAnotherSecretIsRefused() throws Exception {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("cluster.secret"));
        ClusterSecret other = ClusterSecret.generate(dir.resolve("other.secret"));
        try (DonorProcess d = donor("refuse", "auth:\n  secretFile: " + secret.file() + "\n");
             TcpTransport none = transport(null, null);
             TcpTransport wrong = transport(other, null)) {
            assertThat(connectFailure(none, d.address(), "anon")).isInstanceOf(DonorUnavailableException.class)
                    .hasMessageContaining("the donor requires authentication");
            // The client with the wrong secret finds out first: the donor's proof does not verify.
            assertThat(connectFailure(wrong, d.address(), "mallory")).isInstanceOf(DonorUnavailableException.class)
                    .hasMessageContaining("the donor's proof does not match the cluster secret");
            assertThat(d.isAlive()).isTrue();
            // Counted for valet_client_auth_failures_total; a client without a secret is a setting, not a failure.
            assertThat(wrong.wire().authFailures()).isEqualTo(1);
            assertThat(none.wire().authFailures()).isZero();
        }
    }

    @Test
    void aForgedAuthGetsAClosedConnectionAndOneLogLine() throws Exception {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("cluster.secret"));
        try (DonorProcess d = donor("forged", "auth:\n  secretFile: " + secret.file()
                + "\nmetrics:\n  listen: 127.0.0.1:0\n");
             Socket s = new Socket("127.0.0.1", d.address().port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(bytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HELLO, 1,
                    new Hello(FrameHeader.VERSION, "forger"))));
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] helloOk = new byte[FrameHeader.SIZE + HelloOk.SIZE];
            in.readFully(helloOk);
            assertThat(helloOk[FrameHeader.OPCODE_OFFSET] & 0xFF).isEqualTo(Opcode.HELLO_OK.code());
            s.getOutputStream().write(bytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.AUTH, 2,
                    new AuthProof(new byte[AuthProof.BYTES]))));
            assertThat(in.read()).as("the donor closes without sending anything").isEqualTo(-1);
            assertThat(waitForLog(d.log(), "AUTH proof does not match")).contains("refused /127.0.0.1:")
                    .contains("(identity 'forger')").contains("connection closed");
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(d.metricsUrl()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("valet_donor_auth_failures_total 1.0")
                    .contains("valet_donor_refused_connections_total 1.0");
        }
    }

    @Test
    void aClientWithASecretRefusesADonorWithoutOne() throws Exception {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("cluster.secret"));
        try (DonorProcess d = donor("open", "");
             TcpTransport t = transport(secret, null)) {
            assertThat(connectFailure(t, d.address(), "careful")).isInstanceOf(DonorUnavailableException.class)
                    .hasMessageContaining("the donor does not authenticate");
        }
    }

    @Test
    void withoutASecretTheClientRefusesDonorsBeyondLoopback() {
        try (TcpTransport t = transport(null, null)) {
            assertThat(connectFailure(t, DonorAddress.parse("192.0.2.7:7070"), "x"))
                    .hasMessageContaining("refusing to connect to 192.0.2.7:7070 without authentication");
        }
    }

    @Test
    void tlsCarriesTheHandshakeAndAnUntrustedDonorIsRefused() throws Exception {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("cluster.secret"));
        TestCertificates.Identity donorCert = TestCertificates.create(dir, "donor");
        TestCertificates.Identity clientCert = TestCertificates.create(dir, "client");
        TestCertificates.Identity stranger = TestCertificates.create(dir, "stranger");
        String yaml = "auth:\n  secretFile: cluster.secret\ntls:\n  enabled: true\n"
                + "  certificateChain: donor.crt.pem\n  privateKey: donor.key.pem\n"
                + "  trustedCertificates: client.crt.pem\n";
        SslContext good = TlsContexts.forClient(new TlsConfig(true, clientCert.certificate().toString(),
                clientCert.privateKey().toString(), donorCert.certificate().toString())).orElseThrow();
        SslContext trustsStranger = TlsContexts.forClient(new TlsConfig(true, clientCert.certificate().toString(),
                clientCert.privateKey().toString(), stranger.certificate().toString())).orElseThrow();
        SslContext noClientCert = TlsContexts.forClient(new TlsConfig(true, "none", "none",
                donorCert.certificate().toString())).orElseThrow();
        try (DonorProcess d = donor("tls", yaml);
             TcpTransport tls = transport(secret, good);
             TcpTransport wrongTrust = transport(secret, trustsStranger);
             TcpTransport anonymous = transport(secret, noClientCert);
             TcpTransport plain = transport(secret, null)) {
            try (DonorConnection c = tls.connect(d.address(), "tls-client").join()) {
                c.allocateSlab(3, 1 << 20).join();
                assertThat(c.listSlabs().join().slabs()).hasSize(1);
            }
            assertThat(connectFailure(wrongTrust, d.address(), "x")).hasMessageContaining("TLS handshake failed");
            assertThat(connectFailure(anonymous, d.address(), "x")).isInstanceOf(DonorUnavailableException.class);
            assertThat(connectFailure(plain, d.address(), "x")).isInstanceOf(DonorUnavailableException.class);
            assertThat(d.isAlive()).isTrue();
        }
    }

    @Test
    void aTrustedCertificateForAnotherAddressIsRefused() throws Exception {
        TestCertificates.Identity elsewhere = TestCertificates.create(dir, "elsewhere", "ip:192.0.2.1");
        String yaml = "tls:\n  enabled: true\n  certificateChain: elsewhere.crt.pem\n"
                + "  privateKey: elsewhere.key.pem\n";
        SslContext trusting = TlsContexts.forClient(new TlsConfig(true, "none", "none",
                elsewhere.certificate().toString())).orElseThrow();
        try (DonorProcess d = donor("elsewhere", yaml);
             TcpTransport t = transport(null, trusting)) {
            // Trusted, but issued for 192.0.2.1, not the 127.0.0.1 the client dialled.
            assertThat(connectFailure(t, d.address(), "x")).hasMessageContaining("TLS handshake failed");
        }
    }

    private static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    /** The donor log's line containing {@code text}, waiting up to 10 s for it to be written. */
    static String waitForLog(Path log, String text) throws Exception {
        return Await.value(() -> "a line with '" + text + "' in " + log + ":\n" + contents(log), Duration.ofSeconds(10),
                () -> Files.readAllLines(log).stream().filter(line -> line.contains(text)).findFirst().orElse(null));
    }

    private static String contents(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
