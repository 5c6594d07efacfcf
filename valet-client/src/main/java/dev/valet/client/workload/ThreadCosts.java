package dev.valet.client.workload;

import dev.valet.client.transport.WireCounters;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a piece of work costs the threads of this JVM, and the CPU and wake-ups of other processes (the donors):
 * heap bytes each thread allocated ({@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}) and CPU each
 * used, summed by thread group (the name without its trailing numbers: {@code valet-client-io-3-1} is
 * {@code valet-client-io}). Call {@link #start()} and {@link #stop()} around the work, as often as needed (the
 * intervals add up, so the chunks of an interleaved measurement can be counted without the chunks between them),
 * then read {@link #totals()}.
 *
 * <p>Blind spots: a thread counts only over intervals it was alive at both ends of (one that starts and dies inside
 * an interval is not seen); GC and JIT threads are not Java threads, so their CPU shows only in
 * {@link Totals#processCpuNanos()} (minus the thread sum); other processes' CPU has the kernel's 10 ms tick as
 * resolution ({@code /proc/PID/stat}). Voluntary context switches (summed over {@code /proc/PID/task/}*{@code /status})
 * count how often a thread went to sleep waiting for work: the hand-offs between threads an operation costs. The
 * calling thread's own share of a measurement is one {@code long[]} per {@link #start()}. With
 * {@link #countWire(WireCounters)} it also counts a transport's request frames and the flushes that carried them.
 */
public final class ThreadCosts {
    /** One thread group's share: {@code threads} is how many of its threads were seen. */
    public record Group(String name, int threads, long allocatedBytes, long cpuNanos) {
    }

    /**
     * Everything measured; {@code groups} sorted by CPU, most first. {@code processCpuNanos} is this JVM's, its GC
     * and JIT included; {@code switches} are voluntary context switches, this JVM's and the other processes'.
     */
    public record Totals(long allocatedBytes, long threadCpuNanos, long processCpuNanos, long switches,
                         long otherCpuNanos, long otherSwitches, long frames, long flushes, List<Group> groups) {
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ is 100 on Linux's ABI

    private final long[] otherPids;
    private final Map<Long, long[]> perThread = new HashMap<>();   // id -> {allocated, cpu}
    private final Map<Long, String> names = new HashMap<>();
    private long[] ids;
    private long[] allocated;
    private long[] cpu;
    private long process;
    private long ownSwitches;
    private long otherCpu;
    private long otherSwitches;
    private final long[] sums = new long[6];  // process cpu, own switches, other cpu, other switches, frames, flushes
    private WireCounters wire = WireCounters.NONE;
    private long frames;
    private long flushes;

    /** {@code otherPids}: processes whose CPU and context switches count too (the donors), or none. */
    public ThreadCosts(long... otherPids) {
        THREADS.setThreadAllocatedMemoryEnabled(true);
        THREADS.setThreadCpuTimeEnabled(true);
        this.otherPids = otherPids.clone();
    }

    /** Counts, too, the frames and flushes {@code counters} sees (a transport's {@code wire()}). */
    public ThreadCosts countWire(WireCounters counters) {
        this.wire = counters;
        return this;
    }

    /** Begins an interval. Thread allocations are read last, so this call's own are left out but one array. */
    public void start() {
        otherCpu = otherCpu();
        otherSwitches = otherSwitches();
        ownSwitches = switches(ProcessHandle.current().pid());
        process = OS.getProcessCpuTime();
        frames = wire.frames();
        flushes = wire.flushes();
        ids = THREADS.getAllThreadIds();
        cpu = THREADS.getThreadCpuTime(ids);
        allocated = THREADS.getThreadAllocatedBytes(ids);
    }

    /** Ends the interval {@link #start()} began and adds it to the totals. */
    public void stop() {
        long[] ids2 = THREADS.getAllThreadIds();
        long[] allocated2 = THREADS.getThreadAllocatedBytes(ids2);
        long[] cpu2 = THREADS.getThreadCpuTime(ids2);
        sums[0] += OS.getProcessCpuTime() - process;
        sums[1] += switches(ProcessHandle.current().pid()) - ownSwitches;
        sums[2] += otherCpu() - otherCpu;
        sums[3] += otherSwitches() - otherSwitches;
        sums[4] += wire.frames() - frames;
        sums[5] += wire.flushes() - flushes;
        Map<Long, Integer> before = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            before.put(ids[i], i);
        }
        for (int j = 0; j < ids2.length; j++) {
            Integer i = before.get(ids2[j]);
            if (i == null || allocated[i] < 0 || allocated2[j] < 0 || cpu[i] < 0 || cpu2[j] < 0) {
                continue;  // born during the interval, or died: not measurable
            }
            long[] t = perThread.computeIfAbsent(ids2[j], id -> new long[2]);
            t[0] += allocated2[j] - allocated[i];
            t[1] += cpu2[j] - cpu[i];
            names.computeIfAbsent(ids2[j], ThreadCosts::nameOf);
        }
    }

    /** The sum of every interval so far. */
    public Totals totals() {
        Map<String, long[]> groups = new TreeMap<>();  // name -> {threads, allocated, cpu}
        perThread.forEach((id, t) -> {
            long[] g = groups.computeIfAbsent(group(names.get(id)), n -> new long[3]);
            g[0]++;
            g[1] += t[0];
            g[2] += t[1];
        });
        List<Group> list = new ArrayList<>();
        groups.forEach((n, g) -> list.add(new Group(n, (int) g[0], g[1], g[2])));
        list.sort(Comparator.comparingLong(Group::cpuNanos).reversed());
        return new Totals(list.stream().mapToLong(Group::allocatedBytes).sum(),
                list.stream().mapToLong(Group::cpuNanos).sum(), sums[0], sums[1], sums[2], sums[3], sums[4], sums[5],
                List.copyOf(list));
    }

    /**
     * A thread's group: its name without trailing numbers and their separators ({@code pool-2-thread-7}:
     * pool-2-thread).
     */
    public static String group(String threadName) {
        return threadName == null ? "(gone)" : threadName.replaceAll("([-_.:#/ ]*\\d+)+$", "");
    }

    private static String nameOf(long id) {
        java.lang.management.ThreadInfo info = THREADS.getThreadInfo(id, 0);
        return info == null ? null : info.getThreadName();
    }

    private long otherCpu() {
        long sum = 0;
        for (long pid : otherPids) {
            sum += cpuNanos(pid);
        }
        return sum;
    }

    private long otherSwitches() {
        long sum = 0;
        for (long pid : otherPids) {
            sum += switches(pid);
        }
        return sum;
    }

    /** utime + stime of {@code pid} from /proc, in nanoseconds; 0 if it is gone or this is not Linux. */
    public static long cpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Fields after the command (which may hold spaces) start at state, field 3; utime and stime are 14, 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Voluntary context switches of every thread of {@code pid} so far; 0 if unreadable. */
    public static long switches(long pid) {
        long sum = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(24).strip());
                        }
                    }
                } catch (IOException e) {
                    // The thread ended between the listing and the read.
                }
            }
        } catch (IOException | RuntimeException e) {
            return sum;
        }
        return sum;
    }
}
