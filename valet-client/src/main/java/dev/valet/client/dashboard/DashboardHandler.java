package dev.valet.client.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Serves the dashboard: its three static files from the jar and {@code /api/state}, the JSON document they poll.
 * Read-only: GET and HEAD only; nothing here changes the daemon. Pages forbid loading anything from elsewhere
 * (Content-Security-Policy {@code default-src 'self'}).
 */
public final class DashboardHandler implements HttpHandler {
    private static final String RESOURCES = "/dev/valet/client/dashboard/";
    private static final Map<String, String[]> FILES = Map.of(
            "/", new String[] {"index.html", "text/html; charset=utf-8"},
            "/index.html", new String[] {"index.html", "text/html; charset=utf-8"},
            "/dashboard.js", new String[] {"dashboard.js", "text/javascript; charset=utf-8"},
            "/dashboard.css", new String[] {"dashboard.css", "text/css; charset=utf-8"});
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<Object> state;

    /** @param state the document {@code /api/state} serves, built at each request */
    public DashboardHandler(Supplier<Object> state) {
        this.state = state;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "text/plain; charset=utf-8", "read-only: GET or HEAD\n".getBytes(
                        StandardCharsets.UTF_8));
                return;
            }
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/api/state")) {
                send(exchange, 200, "application/json", JSON.writeValueAsBytes(state.get()));
                return;
            }
            String[] file = FILES.get(path);
            if (file == null) {
                send(exchange, 404, "text/plain; charset=utf-8", ("no such page: " + path + "\n").getBytes(
                        StandardCharsets.UTF_8));
                return;
            }
            send(exchange, 200, file[1], resource(file[0]));
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = DashboardHandler.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IOException("dashboard file " + name + " missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
