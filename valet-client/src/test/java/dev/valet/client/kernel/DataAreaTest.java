package dev.valet.client.kernel;

import dev.valet.client.netlink.Netlink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The real open and shared mmap of {@link DataArea}, on a regular file (this host has no /dev/valet-data: the VM
 * lab maps the driver's), and its failures.
 */
class DataAreaTest {
    @TempDir
    Path dir;

    @Test
    void mapsTheFileSharedSoBothSidesSeeTheSameBytes() throws Exception {
        Path file = Files.write(dir.resolve("valet-data"), new byte[1 << 20]);
        byte[] page = new byte[4096];
        Arrays.fill(page, (byte) 0x5a);

        try (DataArea area = DataArea.map(file, 0, 1 << 20)) {
            assertThat(area.index()).isZero();
            assertThat(area.bytes()).isEqualTo(1 << 20);
            assertThat(area.buffer().capacity()).isEqualTo(1 << 20);
            area.buffer().setBytes(8192, page); // what the engine does for a read

            assertThat(Arrays.copyOfRange(Files.readAllBytes(file), 8192, 8192 + 4096)).isEqualTo(page);
            byte[] written = new byte[4096];
            Arrays.fill(written, (byte) 7);
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(written), 65536); // what the driver does for a write
            }
            byte[] seen = new byte[4096];
            area.buffer().getBytes(65536, seen);
            assertThat(seen).isEqualTo(written);
        }
    }

    @Test
    void aMissingDeviceNamesThePathTheDeviceAndErrno() {
        Path absent = dir.resolve("valet-data");

        assertThatThrownBy(() -> DataArea.map(absent, 3, 1 << 20)).isInstanceOf(IOException.class)
                .hasMessage("cannot map the data area of /dev/valet3 from " + absent + ": open(" + absent
                        + ", O_RDWR) failed: No such file or directory (errno 2): is valet.ko of VALET version 3"
                        + " loaded? (setup/module.sh load)");
    }

    @Test
    void aRefusalSaysOnlyTheAttachedDaemonMayMapIt() {
        IOException e = DataArea.failure("mmap(33554432 bytes at offset 1 << 40)", 1, Path.of(ValetGenl.DATA_DEVICE),
                Netlink.EPERM);

        assertThat(e).hasMessage("cannot map the data area of /dev/valet1 from /dev/valet-data: mmap(33554432 bytes"
                + " at offset 1 << 40) failed: Operation not permitted (errno 1): only the attached daemon may map"
                + " the data area (run as root, attached to the device)");
    }

    @Test
    void sizesOutsideTheDriversBoundsAreRefusedBeforeAnyCall() {
        assertThatThrownBy(() -> DataArea.map(dir.resolve("x"), 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DataArea.map(dir.resolve("x"), 0, ValetGenl.MAX_DATA_BYTES + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anAreaOverBorrowedMemoryRunsItsUnmapOnce() {
        int[] unmaps = {0};
        DataArea area = DataArea.over(2, io.netty.buffer.Unpooled.directBuffer(8192), 8192, () -> unmaps[0]++);

        area.close();
        area.close();

        assertThat(unmaps[0]).isEqualTo(1);
        assertThat(area.index()).isEqualTo(2);
    }
}
