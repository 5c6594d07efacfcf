package dev.valet.cli;

import dev.valet.client.engine.EngineStats;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * How the demo waits for re-replication to restore every copy: a line when the slabs' state changes (or every
 * {@value #QUIET_SECONDS} s while nothing does, so a long copy still shows it is alive), and, as soon as it is
 * clear, the reason it cannot finish: too few live donors for the copies asked for, or slabs with no copy left. A
 * donor that is only suspected (silent, not declared dead) may answer again, so the wait goes on while live and
 * suspected donors together could still hold every copy.
 */
final class RepairProgress {
    static final long QUIET_SECONDS = 10;

    private final int replicas;
    private final Consumer<String> say;
    private List<Long> shown;
    private long shownAt;
    private String saidShort;

    /** @param say told each line (without a line end) */
    RepairProgress(int replicas, Consumer<String> say) {
        this.replicas = replicas;
        this.say = say;
    }

    /**
     * Polls {@code stats} every {@code every} until every mapped slab has all its copies (true), or until that
     * cannot happen or {@code timeout} has passed (false); says why in either false case.
     */
    boolean await(Supplier<EngineStats> stats, Duration timeout, Duration every) throws InterruptedException {
        long start = System.nanoTime();
        while (true) {
            EngineStats s = stats.get();
            long now = System.nanoTime();
            show(s, now);
            if (s.fullyReplicated()) {
                return true;
            }
            if (s.slabsWithoutCopy() > 0) {
                say.accept(String.format("cannot restore: %d slabs have no copy left on any donor",
                        s.slabsWithoutCopy()));
                return false;
            }
            if (s.liveDonors() < replicas && !tooFewLive(s)) {
                return false;
            }
            if (now - start > timeout.toNanos()) {
                say.accept(String.format("NOT restored after %d s: %d slabs still short of copies",
                        timeout.toSeconds(), s.slabsDegraded()));
                return false;
            }
            Thread.sleep(every.toMillis());
        }
    }

    /**
     * Fewer live donors than copies per slab: says so (again only when it changes); true (keep waiting) while
     * suspected donors could answer again and make up the difference.
     */
    private boolean tooFewLive(EngineStats s) {
        boolean mayComeBack = s.liveDonors() + s.suspectedDonors() >= replicas;
        String line = String.format("cannot restore %d copies of every slab with %d live donor%s of %d%s", replicas,
                s.liveDonors(), s.liveDonors() == 1 ? "" : "s", s.donors(),
                mayComeBack ? "; waiting for the " + s.suspectedDonors() + " suspected to answer again" : "");
        if (!line.equals(saidShort)) {
            saidShort = line;
            say.accept(line);
        }
        return mayComeBack;
    }

    private void show(EngineStats s, long now) {
        List<Long> state = List.of((long) s.liveDonors(), (long) s.donors(), (long) s.slabsMapped(),
                (long) s.slabsDegraded(), s.slabsRepaired());
        if (state.equals(shown) && now - shownAt < Duration.ofSeconds(QUIET_SECONDS).toNanos()) {
            return;
        }
        shown = state;
        shownAt = now;
        say.accept(String.format("re-replication: %d/%d donors live, %d slabs mapped, %d short of copies, %d new"
                        + " copies, %d pages copied", s.liveDonors(), s.donors(), s.slabsMapped(), s.slabsDegraded(),
                s.slabsRepaired(), s.pagesCopied()));
    }
}
