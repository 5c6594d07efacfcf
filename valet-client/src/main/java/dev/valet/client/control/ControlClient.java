package dev.valet.client.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Asks a running client daemon through its {@link ControlSocket}. */
public final class ControlClient {
    /** The largest answer read. */
    private static final int MAX_ANSWER = 64 << 20;

    private ControlClient() {
    }

    /**
     * Sends {@code request} and returns the daemon's JSON answer.
     *
     * @throws IOException naming the socket and what went wrong: absent (no daemon), permission denied (not root)
     */
    public static String ask(Path socket, String request) throws IOException {
        if (!Files.exists(socket)) {
            throw new IOException(socket + " does not exist: is valet client running (control.socket)?");
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(64 << 10);
            while (ch.read(buf) >= 0) {
                answer.write(buf.array(), 0, buf.position());
                buf.clear();
                if (answer.size() > MAX_ANSWER) {
                    throw new IOException(socket + ": answer longer than " + MAX_ANSWER + " bytes");
                }
            }
            return answer.toString(StandardCharsets.UTF_8);
        } catch (AccessDeniedException e) {
            throw new IOException(socket + ": permission denied (the control socket is root's: run as root)", e);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                throw new IOException(socket + ": permission denied (the control socket is root's: run as root)", e);
            }
            if (String.valueOf(e.getMessage()).contains("Connection refused")) {
                throw new IOException(socket + ": nobody listening (the client daemon is not running)", e);
            }
            throw new IOException(socket + ": " + e.getMessage(), e);
        }
    }
}
