package dev.valet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.common.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real {@code valet client} process (the NBD front end, so that no kernel module is needed) with
 * {@code --metrics-listen}: it serves /metrics, the dashboard and its control socket, and names the endpoint in its
 * serving line; SIGTERM closes them all.
 */
class ClientDaemonEndpointsTest {
    private static final Pattern URL = Pattern.compile("metrics and dashboard at (http://127\\.0\\.0\\.1:\\d+)/");

    @TempDir
    Path dir;

    @Test
    void theDaemonServesMetricsTheDashboardAndItsControlSocket() throws Exception {
        DonorProcesses donors = DonorProcesses.start(dir, "e", 3);
        Process client = null;
        try {
            donors.portal();
            Path socket = dir.resolve("client.sock");
            Files.writeString(dir.resolve("valet.yaml"), """
                    identity: daemon-test
                    swapSpace: 8M
                    slabSize: 1M
                    hostTier:
                      size: 0
                    placement:
                      numReplica: 2
                    control:
                      socket: %s
                    """.formatted(socket));
            Path log = dir.resolve("client.log");
            Path ready = dir.resolve("client.ready");
            client = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), ValetCommand.class.getName(), "client",
                    "--config", dir.resolve("valet.yaml").toString(), "--nbd", "unix:" + dir.resolve("nbd.sock"),
                    "--metrics-listen", "127.0.0.1:0", "--ready-file", ready.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Process daemon = client;
            String url = Await.value(() -> "the client's serving line naming its endpoint (log " + log + ")",
                    Duration.ofSeconds(60), () -> {
                        if (!daemon.isAlive()) {
                            throw new AssertionError("valet client exited: " + Files.readString(log));
                        }
                        Matcher m = URL.matcher(Files.readString(log));
                        return Files.exists(ready) && m.find() ? m.group(1) : null;
                    });

            HttpClient http = HttpClient.newHttpClient();
            String metrics = get(http, url + "/metrics");
            assertThat(metrics).contains("valet_client_donors{state=\"live\"} 3.0")
                    .contains("valet_client_write_pages_total 0.0");
            JsonNode state = new ObjectMapper().readTree(get(http, url + "/api/state"));
            assertThat(state.get("title").asText()).isEqualTo("valet client 'daemon-test'");
            assertThat(state.get("donors")).hasSize(3);
            assertThat(get(http, url + "/")).contains("<script src=\"dashboard.js\"");

            CliRun status = CliRun.of("status", "--client", socket.toString());
            assertThat(status.exit()).as(status.err()).isZero();
            assertThat(status.out()).startsWith("valet client 'daemon-test': 3/3 donors live, 0 slabs mapped");

            client.destroy();
            assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(client.exitValue()).as(Files.readString(log)).isZero();
            assertThat(socket).doesNotExist();
        } finally {
            if (client != null) {
                client.destroyForcibly();
            }
            donors.close();
        }
    }

    private static String get(HttpClient http, String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET " + url).isEqualTo(200);
        return r.body();
    }
}
