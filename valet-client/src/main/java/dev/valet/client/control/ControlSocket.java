package dev.valet.client.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Serves {@code status} on a unix socket: a peer writes one line, {@code status}, and reads one JSON document
 * (what {@code status} supplies), then the connection closes. The socket file is mode 0600 and a peer must run as
 * the daemon's user or as root (checked with {@code SO_PEERCRED}). One thread; answers are small and rare.
 */
public final class ControlSocket implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);
    /** The longest request line read. */
    private static final int MAX_REQUEST = 256;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final ServerSocketChannel server;
    private final Supplier<Object> status;
    private final Thread thread;
    private volatile boolean closed;

    private ControlSocket(Path path, ServerSocketChannel server, Supplier<Object> status) {
        this.path = path;
        this.server = server;
        this.status = status;
        this.thread = new Thread(this::serve, "valet-control-socket");
        this.thread.setDaemon(true);
    }

    /**
     * Listens at {@code path} (its directory made if missing, mode 0755), answering {@code status} with the
     * document {@code status} builds.
     *
     * @throws IOException if the path is taken by a live daemon or cannot be bound
     */
    public static ControlSocket open(Path path, Supplier<Object> status) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        if (Files.exists(path)) {
            if (answers(path)) {
                throw new IOException(path + " is the control socket of a running client daemon");
            }
            Files.delete(path); // left by a daemon that died
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            server.close();
            throw new IOException(path + ": cannot listen: " + e.getMessage(), e);
        }
        ControlSocket socket = new ControlSocket(path, server, status);
        socket.thread.start();
        LOG.info("control socket {} (valet status --client)", path);
        return socket;
    }

    private static boolean answers(Path path) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return ch.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    private void serve() {
        String me = System.getProperty("user.name");
        while (!closed) {
            try (SocketChannel peer = server.accept()) {
                UnixDomainPrincipal who = peer.getOption(ExtendedSocketOptions.SO_PEERCRED);
                String user = who.user().getName();
                if (!user.equals(me) && !user.equals("root")) {
                    LOG.warn("control socket: refused user '{}' (only '{}' or root may ask)", user, me);
                    reply(peer, Map.of("error", "only " + me + " or root may ask this daemon"));
                    continue;
                }
                String request = readLine(peer);
                if (request.equals("status")) {
                    reply(peer, status.get());
                } else {
                    reply(peer, Map.of("error", "unknown request '" + request + "' (expected: status)"));
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.debug("control socket: {}", e.toString());
                }
            }
        }
    }

    private static String readLine(SocketChannel peer) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST);
        while (in.hasRemaining()) {
            if (peer.read(in) < 0) {
                break;
            }
            int end = in.position();
            for (int i = 0; i < end; i++) {
                if (in.get(i) == '\n') {
                    return new String(in.array(), 0, i, StandardCharsets.UTF_8).strip();
                }
            }
        }
        return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
    }

    private static void reply(SocketChannel peer, Object document) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(JSON.writeValueAsBytes(document));
        while (out.hasRemaining()) {
            peer.write(out);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.debug("closing the control socket: {}", e.toString());
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
