package dev.valet.client.kernel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many hardware queues the driver may give a device: blk-mq makes at most one per possible CPU, and each has
 * queue depth tags, which bounds the requests the channel can have out at once (its slots).
 */
final class CpuTopology {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    private CpuTopology() {
    }

    /** The most hardware queues a blk-mq driver can have: one per possible CPU. */
    static int possibleCpus() {
        try {
            String text = Files.readString(Path.of("/sys/devices/system/cpu/possible"), StandardCharsets.US_ASCII);
            int count = countCpus(text);
            if (count > 0) {
                return Math.max(count, Runtime.getRuntime().availableProcessors());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read /sys/devices/system/cpu/possible", e);
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Counts the CPUs in a list like {@code 0-3,8,10-11}. */
    static int countCpus(String list) {
        int count = 0;
        for (String part : list.strip().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            if (dash < 0) {
                Integer.parseInt(part);
                count++;
            } else {
                count += Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
            }
        }
        return count;
    }
}
