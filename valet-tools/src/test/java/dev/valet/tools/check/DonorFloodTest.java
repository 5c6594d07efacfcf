package dev.valet.tools.check;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.TransportSecurity;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.protocol.AuthChallenge;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real donor process under a bounded flood while one legitimate, authenticated client runs a verified write and
 * read workload: 300 unauthenticated connections (junk bytes, a HELLO and then silence, or nothing at all), more
 * authenticated connections than {@code limits.maxClients}, and one authenticated client pipelining requests
 * without reading a reply. The donor must stay up, close every flood connection it should, admit no more than
 * {@code maxClients}, and the legitimate workload must verify every page.
 */
class DonorFloodTest {
    private static final int MAX_CLIENTS = 6;
    private static final int JUNK_CONNECTIONS = 300;
    private static final int EXTRA_CLIENTS = 10;

    @TempDir
    Path dir;

    @Test
    void aFloodNeitherDownsTheDonorNorStarvesALegitimateClient() throws Exception {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("cluster.secret"));
        TransportSecurity security = TransportSecurity.withSecret(secret);
        try (DonorProcess donor = DonorProcess.start(dir, "flood", "memory: 256M\nlockMemory: false\n"
                + "auth:\n  secretFile: cluster.secret\nlimits:\n  maxClients: " + MAX_CLIENTS + "\n"
                + "  maxInFlightPerConnection: 16\n  handshakeTimeout: 1s\n");
             TcpTransport transport = new TcpTransport(NettyTransport.select(), 2,
                     Duration.ofSeconds(10), Duration.ofSeconds(30), 64, security)) {
            DonorConnection legit = transport.connect(donor.address(), "legit").join();

            // One authenticated client that pipelines heartbeats and never reads a reply.
            Socket flooder = new Socket("127.0.0.1", donor.address().port());
            authenticate(flooder, "flooder", secret);
            AtomicLong flooded = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            Thread requestFlood = new Thread(() -> floodRequests(flooder, flooded, stop), "request-flood");
            requestFlood.start();

            // Unauthenticated connections, opened while the workload runs.
            List<Socket> junk = new ArrayList<>();
            CompletableFuture<Void> junkFlood = CompletableFuture.runAsync(() -> openJunk(donor, junk));

            // More authenticated clients than maxClients: legit and flooder hold two places.
            List<DonorConnection> extra = new ArrayList<>();
            int refused = 0;
            for (int i = 0; i < EXTRA_CLIENTS; i++) {
                try {
                    extra.add(transport.connect(donor.address(), "extra-" + i).join());
                } catch (CompletionException e) {
                    assertThat(e.getCause()).hasMessageContaining("closed the connection after AUTH");
                    refused++;
                }
            }
            assertThat(extra).hasSize(MAX_CLIENTS - 2);
            assertThat(refused).isEqualTo(EXTRA_CLIENTS - (MAX_CLIENTS - 2));

            PageCheck.Result result = new PageCheck(List.of(legit),
                    new PageCheck.Options(8192, 4 << 20, 0, 64, 8, 2, 7, true), n -> { }).run();
            junkFlood.join();

            assertThat(result.mismatches()).isZero();
            assertThat(result.failedRequests()).isZero();
            assertThat(result.pagesVerified()).isEqualTo(8192);
            assertThat(flooded.get()).as("the flooder got requests in").isGreaterThan(100);
            // The flooder is held back, not buffered for: the donor stopped reading it, so its writes block.
            long before = flooded.get();
            Thread.sleep(1000);
            assertThat(flooded.get()).as("no request got in for a second").isEqualTo(before);

            // Every unauthenticated connection is closed by the donor: junk at once, the silent ones at the
            // handshake timeout.
            int closed = 0;
            for (Socket s : junk) {
                s.setSoTimeout(5_000);
                try {
                    while (s.getInputStream().read() >= 0) {
                        // HELLO_OK for the ones that said HELLO; then the close.
                    }
                    closed++;
                } catch (SocketTimeoutException e) {
                    // counted as not closed
                } catch (IOException e) {
                    closed++; // reset by the donor
                }
                s.close();
            }
            assertThat(closed).isEqualTo(JUNK_CONNECTIONS);

            stop.set(true);
            flooder.close();
            requestFlood.join(10_000);
            extra.forEach(DonorConnection::close);
            assertThat(donor.isAlive()).isTrue();
            // The donor still serves, and lets a new client in now that places are free.
            assertThat(legit.stats().join().slabCount()).isZero();
            try (DonorConnection late = transport.connect(donor.address(), "late").join()) {
                assertThat(late.heartbeat().join()).isPositive();
            }
            legit.close();
            String log = Files.readString(donor.log());
            assertThat(log).doesNotContain("OutOfMemoryError").doesNotContain("Exception")
                    .contains("more refusals not logged");
            // Over 300 refusals, a handful of lines: one a second at most.
            assertThat(log.lines().filter(l -> l.contains(" refused /127.0.0.1:")).count()).isBetween(1L, 20L);
            assertThat(donor.stop()).isZero();
        }
    }

    /** 300 connections: a third send random bytes, a third HELLO and then nothing, a third nothing at all. */
    private static void openJunk(DonorProcess donor, List<Socket> into) {
        Random random = new Random(3);
        try {
            for (int i = 0; i < JUNK_CONNECTIONS; i++) {
                Socket s = new Socket("127.0.0.1", donor.address().port());
                into.add(s);
                OutputStream out = s.getOutputStream();
                switch (i % 3) {
                    case 0 -> {
                        byte[] garbage = new byte[1 + random.nextInt(2000)];
                        random.nextBytes(garbage);
                        out.write(garbage);
                    }
                    case 1 -> out.write(frame(Opcode.HELLO, 1, new Hello(FrameHeader.VERSION, "lurker-" + i)));
                    default -> { }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void floodRequests(Socket s, AtomicLong sent, AtomicBoolean stop) {
        ByteBuf burst = Unpooled.buffer();
        for (int i = 0; i < 64; i++) {
            burst.writeBytes(frame(Opcode.HEARTBEAT, 100 + i, new Heartbeat(i)));
        }
        byte[] bytes = ByteBufUtil.getBytes(burst);
        try {
            OutputStream out = s.getOutputStream();
            while (!stop.get()) {
                out.write(bytes);
                sent.addAndGet(64);
            }
        } catch (IOException e) {
            // closed at the end of the test
        }
    }

    /** The handshake done by hand on a plain socket, as a client that will then misbehave would. */
    private static void authenticate(Socket s, String identity, ClusterSecret secret) throws IOException {
        s.setSoTimeout(10_000);
        byte[] clientNonce = ClusterSecret.freshNonce();
        s.getOutputStream().write(frame(Opcode.HELLO, 1, new Hello(FrameHeader.VERSION, identity, clientNonce)));
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] reply = new byte[FrameHeader.SIZE + HelloOk.SIZE];
        in.readFully(reply);
        AuthChallenge challenge = HelloOk.decode(Unpooled.wrappedBuffer(reply, FrameHeader.SIZE, HelloOk.SIZE))
                .auth();
        s.getOutputStream().write(frame(Opcode.AUTH, 2, new AuthProof(secret.clientProof(identity, clientNonce,
                challenge.donorNonce()))));
        byte[] ok = new byte[FrameHeader.SIZE];
        in.readFully(ok);
        assertThat(ok[FrameHeader.OPCODE_OFFSET] & 0xFF).isEqualTo(Opcode.AUTH_OK.code());
    }

    private static byte[] frame(Opcode op, long id, MessageBody body) {
        ByteBuf b = Frames.encode(UnpooledByteBufAllocator.DEFAULT, op, id, body);
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }
}
