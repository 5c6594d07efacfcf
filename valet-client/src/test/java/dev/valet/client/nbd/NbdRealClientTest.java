package dev.valet.client.nbd;

import dev.valet.client.engine.Engine;
import dev.valet.client.kernel.PageStore;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.NbdConfig;
import dev.valet.common.config.TlsConfig;
import dev.valet.common.net.TlsContexts;
import dev.valet.common.portal.DonorAddress;
import dev.valet.client.TestCertificates;
import dev.valet.donor.DonorProcess;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libnbd's own tools against the export, served by an engine over two real donor processes on loopback:
 * {@code nbdinfo} sees the size and block sizes, {@code nbdcopy} copies a random file in and back out unchanged
 * (over several connections at once: the export says multi-conn). setup/install-deps.sh installs libnbd-bin, so a
 * missing tool fails the test rather than skipping it.
 */
class NbdRealClientTest {
    static final long SIZE = 32L << 20;

    @TempDir
    static Path dir;
    static final List<DonorProcess> DONORS = new ArrayList<>();
    static Engine engine;

    @BeforeAll
    static void startEngine() throws IOException {
        for (int i = 0; i < 2; i++) {
            DONORS.add(DonorProcess.start(dir, "d" + i, "memory: 64M\nlockMemory: false\n"));
        }
        ClientConfig config = ConfigLoader.parse("nbd-test", """
                identity: nbd-test
                swapSpace: %d
                slabSize: 2M
                placement:
                  numReplica: 2
                  serverSelectNum: 2
                """.formatted(SIZE), ClientConfig.class);
        List<DonorAddress> addresses = DONORS.stream().map(DonorProcess::address).toList();
        engine = Engine.start(config, addresses);
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
        DONORS.forEach(DonorProcess::close);
    }

    private static NbdServer serve(String listen) throws IOException {
        return serve(listen, null);
    }

    private static NbdServer serve(String listen, SslContext tls) throws IOException {
        NbdConfig config = ConfigLoader.parse("nbd-test", "nbd:\n  listen: " + listen + "\n", ClientConfig.class)
                .nbd();
        return NbdServer.start(config, tls, NbdExport.of(SIZE, 256 * 1024), PageStore.of(engine),
                engine.eventLoops());
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    /** Runs a command to its end (at most 2 minutes) and returns its output; fails on a non-zero exit. */
    private static String run(String... command) throws IOException, InterruptedException {
        return exec(true, command);
    }

    /** Runs a command that must fail; returns its output. */
    private static String runFailing(String... command) throws IOException, InterruptedException {
        return exec(false, command);
    }

    private static String exec(boolean succeeds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("%s finished", command[0]).isTrue();
        assertThat(p.exitValue() == 0).as("%s exit status %d; output:%n%s", String.join(" ", command), p.exitValue(),
                out).isEqualTo(succeeds);
        return out;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void nbdinfoSeesTheExportOverAUnixSocketAndTcp() throws Exception {
        Path socket = dir.resolve("info.sock");
        try (NbdServer server = serve("unix:" + socket)) {
            assertThat(server.port()).isEqualTo(-1);
            String out = run("nbdinfo", "--json", "nbd+unix:///?socket=" + socket);
            assertThat(out.replaceAll("\\s+", "")).contains("\"export-size\":" + SIZE)
                    .contains("\"block_size_minimum\":4096").contains("\"block_size_preferred\":4096")
                    .contains("\"block_size_maximum\":262144").contains("\"can_multi_conn\":true")
                    .contains("\"can_flush\":true").contains("\"can_trim\":true").contains("\"can_zero\":true");
            assertThat(run("nbdinfo", "--list", "nbd+unix:///?socket=" + socket)).contains("valet");
        }
        assertThat(socket).doesNotExist();
        int port = freePort();
        try (NbdServer server = serve("tcp:127.0.0.1:" + port)) {
            assertThat(server.port()).isEqualTo(port);
            assertThat(run("nbdinfo", "--size", "nbd://127.0.0.1:" + port).strip()).isEqualTo(Long.toString(SIZE));
        }
    }

    @Test
    void nbdcopyWritesARandomFileInAndReadsItBackUnchanged() throws Exception {
        Path socket = dir.resolve("copy.sock");
        Path in = dir.resolve("in.bin");
        Path out = dir.resolve("out.bin");
        byte[] data = new byte[(int) SIZE];
        new Random(16).nextBytes(data);
        Files.write(in, data);
        try (NbdServer server = serve("unix:" + socket)) {
            assertThat(server.endpoint()).isEqualTo("unix:" + socket);
            String uri = "nbd+unix:///?socket=" + socket;
            run("nbdcopy", in.toString(), uri);
            run("nbdcopy", uri, out.toString());
            assertThat(sha256(out)).isEqualTo(sha256(in));
        }
    }

    /**
     * With TLS the export is reached only through NBD_OPT_STARTTLS, both sides checking the other's certificate
     * (libnbd's tls-certificates folder: ca-cert.pem, client-cert.pem, client-key.pem); a client without TLS is
     * refused, and so is one whose certificate the server does not trust.
     */
    @Test
    void overTcpWithTlsOnlyAClientThatStartsTlsWithATrustedCertificateGetsIn() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("tls"));
        TestCertificates.Identity serverId = TestCertificates.createRsa(certs, "server");
        TestCertificates.Identity clientId = TestCertificates.createRsa(certs, "client");
        Files.copy(serverId.certificate(), certs.resolve("ca-cert.pem"));
        Files.copy(clientId.certificate(), certs.resolve("client-cert.pem"));
        Files.copy(clientId.privateKey(), certs.resolve("client-key.pem"));
        Path strangers = Files.createDirectories(dir.resolve("tls-stranger"));
        TestCertificates.Identity stranger = TestCertificates.createRsa(strangers, "stranger");
        Files.copy(serverId.certificate(), strangers.resolve("ca-cert.pem"));
        Files.copy(stranger.certificate(), strangers.resolve("client-cert.pem"));
        Files.copy(stranger.privateKey(), strangers.resolve("client-key.pem"));
        SslContext tls = TlsContexts.forServer(new TlsConfig(true, serverId.certificate().toString(),
                serverId.privateKey().toString(), clientId.certificate().toString())).orElseThrow();
        int port = freePort();
        try (NbdServer server = serve("tcp:127.0.0.1:" + port, tls)) {
            assertThat(server.port()).isEqualTo(port);
            assertThat(run("nbdinfo", "--size", "nbds://127.0.0.1:" + port + "/?tls-certificates=" + certs).strip())
                    .isEqualTo(Long.toString(SIZE));
            assertThat(runFailing("nbdinfo", "--size", "nbd://127.0.0.1:" + port)).containsIgnoringCase("TLS");
            runFailing("nbdinfo", "--size", "nbds://127.0.0.1:" + port + "/?tls-certificates=" + strangers);
            Path in = dir.resolve("tls-in.bin");
            Path out = dir.resolve("tls-out.bin");
            byte[] data = new byte[4 << 20];
            new Random(19).nextBytes(data);
            Files.write(in, data);
            String uri = "nbds://127.0.0.1:" + port + "/?tls-certificates=" + certs;
            run("nbdcopy", in.toString(), uri);
            run("nbdcopy", uri, out.toString());
            assertThat(out).hasSize(SIZE);
            assertThat(Arrays.copyOf(Files.readAllBytes(out), data.length)).isEqualTo(data);
        }
    }

    /**
     * fio's nbd engine (libnbd, one connection, many requests in flight): random 4 KiB writes of every block, each
     * read back and checked (crc32c), then the same with 64 KiB requests.
     */
    @Test
    void fioWritesAndVerifiesThroughItsNbdEngine() throws Exception {
        Path socket = dir.resolve("fio.sock");
        try (NbdServer server = serve("unix:" + socket)) {
            String uri = "--uri=nbd+unix:///?socket=" + socket;
            assertThat(server.endpoint()).endsWith(socket.toString());
            String out = run("fio", "--name=valet-nbd", "--ioengine=nbd", uri, "--rw=randwrite", "--bs=4k",
                    "--size=8M", "--iodepth=16", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                    "--verify_state_save=0",
                    "--output-format=terse", "--terse-version=3");
            assertThat(out).doesNotContain("verify:").contains("valet-nbd;");
            out = run("fio", "--name=valet-nbd-64k", "--ioengine=nbd", uri, "--rw=randwrite", "--bs=64k",
                    "--size=8M", "--iodepth=8", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                    "--verify_state_save=0");
            assertThat(out).contains("err= 0").doesNotContain("verify:");
        }
    }
}
