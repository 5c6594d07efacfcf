package dev.valet.cli;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the survey makes of a donor's answer to CLIENT_SHARES. A donor from before that request cannot run here
 * (every donor of this build answers it; StatusCommandTest and DashboardBrowserTest ask real ones), so a connection
 * stands in that answers as such a donor does: UNSUPPORTED_OPCODE.
 */
class DonorSurveyTest {
    private static final DonorAddress DONOR = DonorAddress.parse("127.0.0.1:7070");
    private static final DonorStats STATS = new DonorStats(64L << 20, 1L << 20, 63L << 20, 1L << 30, 0, 1, 2, 0, 0,
            0, 0, 0, 0);

    @Test
    void aDonorThatDoesNotKnowClientSharesIsUpWithItsStatsAndNoShares() {
        DonorSurvey.Report r = surveyOne(CompletableFuture.failedFuture(new DonorException(DONOR.toString(),
                ErrorCode.UNSUPPORTED_OPCODE, "opcode 0x0b is not served here")));

        assertThat(r.up()).isTrue();
        assertThat(r.stats()).isEqualTo(STATS);
        assertThat(r.otherClients()).isEqualTo(1);
        assertThat(r.shares()).isNull();
    }

    @Test
    void aDonorThatAnswersHasItsSharesInTheReport() {
        ClientShares shares = new ClientShares(1, List.of(new ClientShares.Share("web-01", 1, 1L << 20)));
        assertThat(surveyOne(CompletableFuture.completedFuture(shares)).shares()).isEqualTo(shares);
    }

    @Test
    void aDonorLostWhileAskedIsDownWithTheReason() {
        DonorSurvey.Report r = surveyOne(CompletableFuture.failedFuture(new DonorUnavailableException(DONOR
                + ": connection closed by the donor")));

        assertThat(r.up()).isFalse();
        assertThat(r.reason()).isEqualTo("connection closed by the donor");
        assertThat(r.stats()).isNull();
    }

    private static DonorSurvey.Report surveyOne(CompletableFuture<ClientShares> shares) {
        DonorConnection connection = (DonorConnection) Proxy.newProxyInstance(DonorSurveyTest.class.getClassLoader(),
                new Class<?>[] {DonorConnection.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "heartbeat" -> CompletableFuture.completedFuture(50_000L);
                    case "stats" -> CompletableFuture.completedFuture(STATS);
                    case "clientShares" -> shares;
                    case "close" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        DonorTransport transport = new DonorTransport() {
            @Override
            public CompletableFuture<DonorConnection> connect(DonorAddress address, String identity,
                                                              Duration handshakeTimeout) {
                return CompletableFuture.completedFuture(connection);
            }

            @Override
            public String name() {
                return "stand-in";
            }

            @Override
            public void close() {
            }
        };
        List<DonorSurvey.Report> reports = DonorSurvey.take(transport, List.of(DONOR), "survey-test",
                Duration.ofSeconds(1));
        assertThat(reports).hasSize(1);
        assertThat(reports.get(0).donor()).isEqualTo(DONOR.toString());
        return reports.get(0);
    }
}
