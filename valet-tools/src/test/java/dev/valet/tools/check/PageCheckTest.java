package dev.valet.tools.check;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.donor.DonorProcess;
import dev.valet.tools.LocalDonors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The checking client against real donor processes on loopback. */
class PageCheckTest {
    @TempDir
    Path dir;

    @Test
    void hundredThousandPagesOverManySlabsComeBackExact() throws Exception {
        try (DonorProcess donor = LocalDonors.process(dir, "a", "512M", "");
             TcpTransport transport = LocalDonors.tcp();
             DonorConnection c = LocalDonors.connect(transport, donor, "client-a")) {
            // 4 MiB slabs: 100,000 pages span 98 slabs; two rounds so every page is overwritten once.
            PageCheck.Options options = new PageCheck.Options(100_000, 4 << 20, 0, 64, 16, 2, 7, false);
            AtomicLong progress = new AtomicLong();
            PageCheck check = new PageCheck(List.of(c), options, progress::addAndGet);

            PageCheck.Result r = check.run();

            assertThat(r.mismatches()).isZero();
            assertThat(r.failedRequests()).isZero();
            assertThat(r.pagesVerified()).isEqualTo(100_000);
            assertThat(r.clean()).isTrue();
            assertThat(progress.get()).isEqualTo(options.progressUnits());
            assertThat(c.stats().join().slabCount()).isEqualTo(98);
            assertThat(c.stats().join().lentBytes()).isEqualTo(98L * (4 << 20));
            for (long s = 0; s < 98; s++) {
                c.freeSlab(s).join();
            }
            assertThat(c.stats().join().lentBytes()).isZero();
        }
    }

    @Test
    void pagesSpreadOverThreeDonorsVerify() throws Exception {
        try (DonorProcess a = LocalDonors.process(dir, "a", "128M", "");
             DonorProcess b = LocalDonors.process(dir, "b", "128M", "");
             DonorProcess d = LocalDonors.process(dir, "c", "128M", "");
             TcpTransport transport = LocalDonors.tcp()) {
            List<DonorConnection> cs = List.of(LocalDonors.connect(transport, a, "spread"),
                    LocalDonors.connect(transport, b, "spread"), LocalDonors.connect(transport, d, "spread"));
            PageCheck.Result r = new PageCheck(cs, new PageCheck.Options(20_000, 1 << 20, 100, 32, 8, 1, 3, true),
                    n -> { }).run();
            assertThat(r.clean()).as("%s", r).isTrue();
            for (DonorConnection c : cs) {
                // Every donor held some of the 20 slabs and gave them all back.
                assertThat(c.stats().join().slabCount()).isZero();
                c.close();
            }
        }
    }

    @Test
    void aDonorKilledAfterTheWritesFailsItsReadsAndFreesButTheCheckStillReports() throws Exception {
        try (DonorProcess a = LocalDonors.process(dir, "a", "128M", "");
             DonorProcess b = LocalDonors.process(dir, "b", "128M", "");
             TcpTransport transport = LocalDonors.tcp()) {
            List<DonorConnection> cs = List.of(LocalDonors.connect(transport, a, "dies"),
                    LocalDonors.connect(transport, b, "dies"));
            // 1 MiB slabs (256 pages): 4,096 pages are 16 slabs, the even ones on a, the odd ones on b.
            PageCheck.Options options = new PageCheck.Options(4096, 1 << 20, 0, 32, 8, 1, 5, true);
            AtomicLong progress = new AtomicLong();
            PageCheck check = new PageCheck(cs, options, n -> {
                // The last write's answer: every page is stored; b dies before the first read is sent.
                if (progress.addAndGet(n) == options.pages()) {
                    try {
                        b.kill();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });

            PageCheck.Result r = check.run();

            assertThat(b.isAlive()).isFalse();
            assertThat(r.pagesWritten()).isEqualTo(4096);
            assertThat(r.pagesVerified()).as("%s", r).isEqualTo(2048);
            assertThat(r.mismatches()).isZero();
            assertThat(r.failedRequests()).isEqualTo(2048 / 32);
            assertThat(r.clean()).isFalse();
            // a's slabs were freed even though b's could not be.
            assertThat(cs.get(0).stats().join().slabCount()).isZero();
            cs.forEach(DonorConnection::close);
        }
    }
}
