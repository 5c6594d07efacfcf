package dev.valet.client.kernel;

import dev.valet.client.netlink.GenericNetlink;
import dev.valet.client.netlink.MalformedMessageException;
import dev.valet.client.netlink.MessageReader;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkEndpoint;
import dev.valet.client.netlink.NetlinkErrnoException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * ATTACH and DETACH, sent from the data port: the driver sends IO messages to the port that attached, so these two
 * cannot go over {@link ValetControl}'s socket. The kernel's answer arrives on the data port among IO messages, so
 * the receiver reads it and hands it here ({@link #takeAnswer}) while the caller waits.
 */
final class DataPortControl {
    /** Room for ATTACH (with VALET_ATTR_VERSION) or DETACH. */
    static final int BUFFER_BYTES = 256;
    /**
     * How long ATTACH/DETACH may wait for the kernel's answer. It comes in microseconds on an idle machine; a generous
     * bound because the receiver that reads it may be starved on a loaded one (seen: 10 s was not enough in the VM).
     */
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final int familyId;
    private final NetlinkEndpoint data;
    private final BooleanSupplier receiverAlive;
    private final ByteBuffer tx = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final MessageWriter writer = new MessageWriter().wrap(tx);
    private final AtomicInteger seqs = new AtomicInteger(1);
    private volatile boolean detached;

    // The answer to the ATTACH or DETACH in progress, handed from the receiver (guarded by lock).
    private final Object lock = new Object();
    private int seq;
    private boolean answered;
    private int error;
    private String message;

    /** {@code receiverAlive}: whether the thread that would read the answer still runs (else do not wait). */
    DataPortControl(int familyId, NetlinkEndpoint data, BooleanSupplier receiverAlive) {
        this.familyId = familyId;
        this.data = data;
        this.receiverAlive = receiverAlive;
    }

    /** ATTACH (with this daemon's VALET version): IO messages come to the data port from now on. */
    void attach() throws IOException {
        call("ATTACH", ValetGenl.CMD_ATTACH);
    }

    /** DETACH: the driver holds requests for the next daemon; refusals of DONE messages are expected from now. */
    void detach() throws IOException {
        detached = true;
        call("DETACH", ValetGenl.CMD_DETACH);
    }

    /** Whether DETACH was sent: the driver may refuse completions from now on, which is no news. */
    boolean detached() {
        return detached;
    }

    /**
     * Receiver: takes an NLMSG_ERROR (acknowledgement or error) when it answers the ATTACH/DETACH in progress;
     * false when it answers something else (a DONE).
     */
    boolean takeAnswer(MessageReader answer) throws MalformedMessageException {
        int answerSeq = answer.seq();
        int answerError = answer.error();
        synchronized (lock) {
            if (answerSeq == seq && seq != 0) {
                error = answerError;
                message = answerError != 0 ? answer.errorMessage() : null;
                answered = true;
                lock.notifyAll();
                return true;
            }
        }
        return false;
    }

    /** Sends {@code cmd} from the data port and waits for the receiver to see the kernel's answer. */
    private void call(String name, int cmd) throws IOException {
        int callSeq = seqs.getAndIncrement();
        synchronized (lock) {
            seq = callSeq;
            answered = false;
            error = 0;
            message = null;
            writer.reset().begin(familyId, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, callSeq, data.portId())
                    .genl(cmd, ValetGenl.GENL_VERSION);
            if (cmd == ValetGenl.CMD_ATTACH) {
                writer.putU32(ValetGenl.ATTR_VERSION, ValetGenl.GENL_VERSION);
            }
            int length = writer.finish();
            data.send(tx, 0, length);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            try {
                while (!answered) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !receiverAlive.getAsBoolean()) {
                        seq = 0;
                        throw new IOException("no answer from the kernel to " + name + " within "
                                + TIMEOUT.toSeconds() + "s");
                    }
                    TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, KernelChannel.POLL.toNanos()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for the kernel's answer to " + name, e);
            } finally {
                seq = 0;
            }
            if (error != 0) {
                int errno = -error;
                String hint = switch (errno) {
                    case Netlink.EPERM -> ": the daemon needs CAP_SYS_ADMIN (run it as root)";
                    case Netlink.EBUSY -> ": another daemon is attached (setup/client.sh status)";
                    case Netlink.EPROTO, Netlink.EINVAL, Netlink.EOPNOTSUPP -> cmd == ValetGenl.CMD_ATTACH
                            ? ": the loaded valet.ko speaks another VALET version than this daemon's "
                            + ValetGenl.GENL_VERSION + ": " + ValetControl.LOAD_THIS_CHECKOUT : "";
                    default -> "";
                };
                throw new NetlinkErrnoException(GenericNetlink.errorFor(name, errno, message).getMessage() + hint,
                        errno);
            }
        }
    }
}
