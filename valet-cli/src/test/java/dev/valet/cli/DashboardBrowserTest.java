package dev.valet.cli;

import dev.valet.client.engine.Engine;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard in a real browser (headless chromium) against three real donor processes: the client daemon's
 * view (served by the same {@link ClientEndpoints} as {@code valet client}) shows the donors, the used bytes and
 * this client's share changing after writes, where the slab's copies are, and a killed donor as dead; the cluster
 * view of a {@code valet dashboard} process shows the three donors, their used bytes and which client holds them
 * (the donors' CLIENT_SHARES), and a killed donor as down. Screenshots:
 * {@code valet-cli/target/dashboard-client.png} and {@code dashboard-cluster.png}.
 */
class DashboardBrowserTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long SLAB = 1L << 20;
    private static final By SHARE_ITEMS = By.cssSelector("li.share");

    @TempDir
    Path dir;

    private DonorProcesses donors;

    @BeforeEach
    void startDonors() throws Exception {
        donors = DonorProcesses.start(dir, "b", 3);
    }

    @AfterEach
    void stopDonors() {
        donors.close();
    }

    @Test
    void clientViewShowsDonorsUsedBytesCopiesAndADeadDonor() throws Exception {
        ClientConfig config = ConfigLoader.parse("dashboard-test", """
                control:
                  socket: ""
                identity: dashboard-test
                swapSpace: 8M
                slabSize: 1M
                placement:
                  numReplica: 2
                failover:
                  heartbeatInterval: 100ms
                  donorTimeout: 2s
                metrics:
                  listen: 127.0.0.1:0
                """, ClientConfig.class);
        List<DonorAddress> addresses = donors.addresses();
        try (Browser browser = Browser.open();
             Engine engine = Engine.start(config, addresses);
             ClientEndpoints endpoints = ClientEndpoints.start(config, engine, null, null)) {
            browser.driver.get(endpoints.url() + "/");
            awaitPage(browser, "three live donors, nothing lent", () -> {
                List<WebElement> rows = rows(browser);
                return rows.size() == 3 && rows.stream().allMatch(r -> "live".equals(r.getAttribute("data-state")))
                        && sum(browser, "lent") == 0;
            });
            assertThat(browser.driver.findElement(By.id("title")).getText()).isEqualTo("valet client 'dashboard-test'");
            for (int i = 0; i < 3; i++) {
                assertThat(rows(browser).get(i).getAttribute("data-donor")).isEqualTo(addresses.get(i).toString());
                assertThat(cell(browser, addresses.get(i).toString(), "limit").getText()).isEqualTo("64.0 MiB");
            }

            DonorProcesses.writeZeros(engine, 0, 256);
            DonorProcesses.writeZeros(engine, SLAB / FrameHeader.PAGE_SIZE, 256);

            // Two slabs, two copies each: 4 MiB lent in all, all of it this client's, on the donors the engine chose.
            awaitPage(browser, "4 MiB lent after writing two slabs", () -> sum(browser, "lent") == 4 * SLAB
                    && sum(browser, "mine") == 4 * SLAB);
            List<WebElement> slabRows = browser.driver.findElements(By.cssSelector("#slabs tr.slab"));
            assertThat(slabRows).hasSize(2);
            String holder = engine.slabMap().slabOf(0).replicas().get(0).address().toString();
            assertThat(slabRows.get(0).findElement(By.className("copies")).getText()).contains(holder);
            assertThat(slabRows.get(0).findElement(By.className("health")).getText()).isEqualTo("ok");
            assertThat(Long.parseLong(cell(browser, holder, "mine").getAttribute("data-bytes")))
                    .isGreaterThanOrEqualTo(SLAB);
            assertThat(browser.driver.findElement(By.id("slabs-mapped")).getText()).isEqualTo("2");

            donors.at(holder).kill();
            awaitPage(browser, "the killed donor shown dead, its death in the events", () ->
                    "dead".equals(row(browser, holder).getAttribute("data-state"))
                            && browser.driver.findElement(By.id("events")).getText().contains("donor " + holder
                            + " died"));
            assertThat(cell(browser, holder, "state").getText()).isEqualTo("dead");
            awaitPage(browser, "re-replication done, no degraded slab", () ->
                    browser.driver.findElement(By.id("slabs-degraded")).getText().equals("0")
                            && browser.driver.findElement(By.id("events")).getText().contains("re-replication done")
                            && !browser.driver.findElement(By.cssSelector("#slabs")).getText().contains(holder));
            browser.screenshot("dashboard-client");
        }
    }

    @Test
    void clusterViewOfValetDashboardListsTheDonorsAndTheirUsedBytes() throws Exception {
        Path portal = donors.portal();
        Path ready = dir.resolve("dashboard.ready");
        Process dashboard = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ValetCommand.class.getName(), "dashboard",
                "--portal", portal.toString(), "--listen", "127.0.0.1:0", "--interval", "500ms",
                "--ready-file", ready.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("dashboard.log").toFile()).start();
        try (Browser browser = Browser.open()) {
            String url = Await.value(() -> "valet dashboard's ready file (log: " + dir.resolve("dashboard.log")
                    + ")", WAIT, () -> Files.exists(ready) ? Files.readString(ready).trim() : null);
            browser.driver.get(url);
            awaitPage(browser, "three live donors", () -> rows(browser).size() == 3
                    && rows(browser).stream().allMatch(r -> "live".equals(r.getAttribute("data-state"))));
            assertThat(browser.driver.findElement(By.id("title")).getText()).startsWith("valet cluster (");
            assertThat(sum(browser, "lent")).isZero();

            // A client takes one slab on the first donor: the page shows it lent there.
            try (Engine engine = Engine.start(ConfigLoader.parse("cluster-client", """
                    identity: cluster-client
                    swapSpace: 4M
                    slabSize: 1M
                    placement:
                      numReplica: 1
                    """, ClientConfig.class), List.of(donors.get(0).address()))) {
                DonorProcesses.writeZeros(engine, 0, 1);
                String first = donors.get(0).address().toString();
                awaitPage(browser, "1 MiB lent on the first donor, all of it cluster-client's", () ->
                        Long.parseLong(cell(browser, first, "lent").getAttribute("data-bytes")) == SLAB
                                && sum(browser, "lent") == SLAB
                                && !cell(browser, first, "shares").findElements(SHARE_ITEMS).isEmpty());
                assertThat(cell(browser, first, "clients").getText()).isEqualTo("1");
                List<WebElement> shares = cell(browser, first, "shares").findElements(SHARE_ITEMS);
                assertThat(shares).as("one client holds slabs there").hasSize(1);
                assertThat(shares.get(0).getAttribute("data-identity")).isEqualTo("cluster-client");
                assertThat(shares.get(0).getAttribute("data-bytes")).isEqualTo(String.valueOf(SLAB));
                assertThat(shares.get(0).getText()).contains("cluster-client").contains("1.0 MiB");
                for (int i = 1; i < 3; i++) {
                    assertThat(cell(browser, donors.get(i).address().toString(), "shares").getText())
                            .as("a donor nobody holds anything on").isEqualTo("none");
                }
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url
                        + "metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("valet_cluster_donor_client_lent_bytes{client=\"cluster-client\",donor=\""
                        + first + "\"} " + (double) SLAB);
            }
            donors.get(2).kill();
            String third = donors.get(2).address().toString();
            // A survey under way when the donor dies sees the connection close; the next ones find nobody there.
            awaitPage(browser, "the killed donor shown down, connection refused", () ->
                    "down".equals(row(browser, third).getAttribute("data-state"))
                            && browser.driver.findElement(By.id("events")).getText().contains(third + " down")
                            && cell(browser, third, "state").getAttribute("title").startsWith("connection refused"));
            browser.screenshot("dashboard-cluster");
        } finally {
            dashboard.destroy();
            dashboard.waitFor();
        }
    }

    private interface PageCondition {
        boolean holds();
    }

    /** Polls what the browser shows (the page re-renders every second, so an element may go stale: try again). */
    private static void awaitPage(Browser browser, String what, PageCondition condition) throws InterruptedException {
        Await.until(() -> what + "; the page shows:\n" + browser.driver.findElement(By.tagName("body")).getText(),
                WAIT, () -> {
                    try {
                        return condition.holds();
                    } catch (WebDriverException | NumberFormatException e) {
                        return false;
                    }
                });
    }

    private static List<WebElement> rows(Browser browser) {
        return browser.driver.findElements(By.cssSelector("#donors tr.donor"));
    }

    private static WebElement row(Browser browser, String donor) {
        return browser.driver.findElement(By.cssSelector("#donors tr.donor[data-donor='" + donor + "']"));
    }

    private static WebElement cell(Browser browser, String donor, String column) {
        return row(browser, donor).findElement(By.className(column));
    }

    /** The sum of a byte column over every donor row, from the raw numbers the cells carry. */
    private static long sum(Browser browser, String column) {
        long total = 0;
        for (WebElement row : rows(browser)) {
            String raw = row.findElement(By.className(column)).getAttribute("data-bytes");
            total += raw == null ? 0 : Long.parseLong(raw);
        }
        return total;
    }
}
