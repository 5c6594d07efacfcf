package dev.valet.client.kernel;

import dev.valet.client.netlink.MessageWriter;

import java.util.function.Consumer;

/** Writes a message built by a {@link FakeKernel} builder into a writer and returns the datagram's length. */
final class FakeKernelBytes {
    private FakeKernelBytes() {
    }

    static int write(MessageWriter writer, Consumer<MessageWriter> build) {
        writer.reset();
        build.accept(writer);
        return writer.length();
    }
}
