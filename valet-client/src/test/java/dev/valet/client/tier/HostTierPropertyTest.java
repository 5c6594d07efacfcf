package dev.valet.client.tier;

import dev.valet.client.tier.TierPages.Answer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import static dev.valet.client.tier.TierPages.PAGE;
import static dev.valet.client.tier.TierPages.valueAt;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random runs of writes, reads, flushes, the backing store's answers (successes and failures, writes and reads
 * ahead, in any order) and crashes (the daemon dies: a new tier opens the same memory, what was in flight is lost
 * or landed) keep the tier's promise: every read returns the last acknowledged write of each page, or a write
 * issued after it and not yet acknowledged (or lost in a crash); and once a restarted tier has written out what it
 * recovered, the backing store holds the same.
 */
class HostTierPropertyTest {
    private static final int SLOTS = 6;
    private static final int PAGES = 10;
    private static final HostTier.Settings SETTINGS = new HostTier.Settings(PAGES, 3, 4, true, 4, 4);

    enum Kind { WRITE, READ, FLUSH, END_WRITE, END_READ_AHEAD, CRASH }

    /** One step; its fields mean what its kind needs. */
    record Op(Kind kind, int page, int count, int pick, boolean ok) {
    }

    @Provide
    Arbitrary<List<Op>> runs() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(Tuple.of(6, Kind.WRITE), Tuple.of(4, Kind.READ),
                Tuple.of(3, Kind.FLUSH), Tuple.of(4, Kind.END_WRITE), Tuple.of(2, Kind.END_READ_AHEAD),
                Tuple.of(1, Kind.CRASH));
        Arbitrary<Op> op = Combinators.combine(kinds, Arbitraries.integers().between(0, PAGES - 1),
                Arbitraries.integers().between(1, 3), Arbitraries.integers().between(0, 20),
                Arbitraries.frequency(Tuple.of(3, true), Tuple.of(1, false))).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(80);
    }

    /** A write not answered yet. */
    private record Outstanding(long firstPage, int count, long value, Answer answer) {
    }

    @Property(tries = 400)
    void everyReadReturnsTheLastAcknowledgedWrite(@ForAll("runs") List<Op> run) throws IOException {
        ByteBuf memory = TierPages.memory(SLOTS);
        FakeBacking backing = new FakeBacking();
        backing.delayWrites = true;
        backing.delayReadsInto = memory;
        HostTier tier = HostTier.openStopped(memory, backing, SETTINGS);
        Map<Long, TreeSet<Long>> allowed = new HashMap<>();
        for (long p = 0; p < PAGES; p++) {
            allowed.computeIfAbsent(p, k -> new TreeSet<>()).add(-1L); // zeros, never written
        }
        List<Outstanding> outstanding = new ArrayList<>();
        Random random = new Random(run.size());
        long value = 0;
        for (Op op : run) {
            switch (op.kind()) {
                case WRITE -> {
                    int count = Math.min(op.count(), PAGES - op.page());
                    Answer answer = new Answer();
                    value++;
                    for (int i = 0; i < count; i++) {
                        allowed.get((long) op.page() + i).add(value);
                    }
                    outstanding.add(new Outstanding(op.page(), count, value, answer));
                    tier.write(op.page(), count, TierPages.pages(op.page(), count, value), 0, answer);
                }
                case READ -> {
                    int count = Math.min(op.count(), PAGES - op.page());
                    ByteBuf dst = Unpooled.buffer(count * PAGE);
                    Answer answer = new Answer();
                    tier.read(op.page(), count, dst, 0, answer);
                    assertThat(answer.ok()).as("read answered at once (reads are not delayed)").isTrue();
                    for (int i = 0; i < count; i++) {
                        long page = op.page() + i;
                        assertThat(allowed.get(page)).as("page %d", page).contains(valueAt(dst, i * PAGE, page));
                    }
                }
                case FLUSH -> tier.flushBurst();
                case END_WRITE -> endOne(backing, true, op);
                case END_READ_AHEAD -> endOne(backing, false, op);
                case CRASH -> {
                    backing.crash(p -> random.nextBoolean());
                    outstanding.clear(); // lost: their values stay allowed until a later write is acknowledged
                    tier = HostTier.openStopped(memory, backing, SETTINGS);
                }
            }
            acknowledge(outstanding, allowed);
        }

        // The end: the daemon dies once more, and the next one writes out everything it recovers.
        backing.crash(p -> random.nextBoolean());
        backing.delayWrites = false;
        backing.delayReadsInto = null;
        HostTier last = HostTier.openStopped(memory, backing, SETTINGS);
        while (last.stats().dirty() > 0) {
            assertThat(last.flushBurst()).isPositive();
        }
        for (long p = 0; p < PAGES; p++) {
            assertThat(allowed.get(p)).as("page %d on the backing store", p)
                    .contains(TierPages.valueOf(backing.page(p), p));
        }
    }

    private static void endOne(FakeBacking backing, boolean write, Op op) {
        List<FakeBacking.Pending> pending = backing.pending(p -> p.write == write);
        if (!pending.isEmpty()) {
            pending.get(op.pick() % pending.size()).end(op.ok());
        }
    }

    /** Writes answered since the last step: each page's older values are no longer allowed. */
    private static void acknowledge(List<Outstanding> outstanding, Map<Long, TreeSet<Long>> allowed) {
        for (Iterator<Outstanding> it = outstanding.iterator(); it.hasNext(); ) {
            Outstanding w = it.next();
            if (w.answer().told() == 0) {
                continue;
            }
            assertThat(w.answer().ok()).as("a write is never failed").isTrue();
            it.remove();
            for (int i = 0; i < w.count(); i++) {
                allowed.get(w.firstPage() + i).headSet(w.value()).clear();
            }
        }
    }
}
