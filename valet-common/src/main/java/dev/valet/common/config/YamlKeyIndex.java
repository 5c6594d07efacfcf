package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where each key of a YAML document is written. Jackson's tree model keeps no locations and its binding errors
 * point wherever the parser happened to stop, so {@link ConfigLoader} reads the document once with a bare
 * parser to learn the line and column of every key; with that, any error about a key, including a rule broken
 * after binding, can send the operator to the right line.
 *
 * <p>The same pass refuses what binding would silently accept: a root that is not a mapping, a key written
 * twice (YAML keeps the last one) and a second document after {@code ---}. It also notes keys given no value,
 * which the loader refuses once binding has had the chance to report an unknown key instead.
 */
final class YamlKeyIndex {

    /** {@code key: [fd00::1]:7070} without quotes. */
    private static final Pattern UNQUOTED_IPV6 = Pattern.compile(":\\s+\\[[0-9A-Fa-f:.%]*]:");

    private final Map<String, JsonLocation> keyLocations = new HashMap<>();
    private final List<String> keysWithoutValue = new ArrayList<>();
    private final String source;
    private boolean empty;

    private YamlKeyIndex(String source) {
        this.source = source;
    }

    /**
     * Reads {@code yamlText} and indexes its keys.
     *
     * @throws ConfigException for YAML syntax errors, a root that is not a mapping, duplicate keys and more than
     *                         one document
     */
    static YamlKeyIndex scan(String source, String yamlText, ObjectMapper yamlMapper) {
        YamlKeyIndex index = new YamlKeyIndex(source);
        try (JsonParser parser = yamlMapper.createParser(yamlText)) {
            JsonToken root = parser.nextToken();
            if (root == null || root == JsonToken.VALUE_NULL) {
                index.empty = true;
            } else if (root == JsonToken.START_OBJECT) {
                index.scanMapping(parser, "");
            } else {
                String hint = root == JsonToken.VALUE_STRING ? " (is the ':' after a key missing?)" : "";
                throw index.error(parser.currentTokenLocation(), "", "expected a mapping of keys to values, like"
                        + " 'memory: 8G', got " + describe(root, parser.getText()) + hint);
            }
            if (parser.nextToken() != null) {
                throw index.error(parser.currentTokenLocation(), "", "only one YAML document is allowed, but"
                        + " another one starts here (remove the extra '---' and what follows it)");
            }
        } catch (StreamReadException e) {
            throw syntaxError(source, yamlText, e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading YAML from a string", e);
        }
        return index;
    }

    /** True when the document has no content at all: an empty file, only comments, or a bare {@code ~}. */
    boolean isEmpty() {
        return empty;
    }

    /** Where the key at {@code keyPath} ({@code a.b[2].c}) is written, if it is. */
    Optional<JsonLocation> locationOf(String keyPath) {
        return Optional.ofNullable(keyLocations.get(keyPath));
    }

    /** Keys written with no value ({@code memory:} or {@code memory: ~}), in file order. */
    List<String> keysWithoutValue() {
        return keysWithoutValue;
    }

    /**
     * Turns a Jackson YAML parse error into a {@link ConfigException} at the place SnakeYAML complained about,
     * with a hint for the one slip Valet's own syntax invites: an unquoted {@code [IPv6]:port}, which YAML reads
     * as the start of a list.
     */
    static ConfigException syntaxError(String source, String yamlText, StreamReadException e) {
        if (e.getCause() instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
            Mark problemAt = yaml.getProblemMark();
            Mark contextAt = yaml.getContextMark();
            String context = yaml.getContext() == null ? ""
                    : " (" + yaml.getContext() + (contextAt == null || contextAt.getLine() == problemAt.getLine()
                            ? "" : " that starts on line " + (contextAt.getLine() + 1)) + ")";
            String line = yamlText.lines().skip(problemAt.getLine()).findFirst().orElse("");
            String hint = UNQUOTED_IPV6.matcher(line).find()
                    ? "; an IPv6 address must be quoted in YAML: \"[::1]:7070\"" : "";
            return new ConfigException(source, problemAt.getLine() + 1, problemAt.getColumn() + 1, "",
                    "YAML syntax error: " + yaml.getProblem() + context + hint, e);
        }
        JsonLocation location = e.getLocation();
        return new ConfigException(source, location == null ? 0 : location.getLineNr(),
                location == null ? 0 : location.getColumnNr(), "", "YAML syntax error: " + e.getOriginalMessage(), e);
    }

    private void scanMapping(JsonParser parser, String path) throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            String keyPath = path.isEmpty() ? key : path + "." + key;
            JsonLocation location = parser.currentTokenLocation();
            JsonLocation earlier = keyLocations.putIfAbsent(keyPath, location);
            if (earlier != null) {
                throw error(location, keyPath, "duplicate key '" + key + "' (first set on line "
                        + earlier.getLineNr() + "; keep one of them)");
            }
            scanValue(parser, parser.nextToken(), keyPath);
        }
    }

    private void scanValue(JsonParser parser, JsonToken token, String path) throws IOException {
        switch (token) {
            case START_OBJECT -> scanMapping(parser, path);
            case START_ARRAY -> {
                int index = 0;
                JsonToken element;
                while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
                    String elementPath = path + "[" + index++ + "]";
                    keyLocations.put(elementPath, parser.currentTokenLocation());
                    scanValue(parser, element, elementPath);
                }
            }
            case VALUE_NULL -> keysWithoutValue.add(path);
            default -> {
                // a scalar: its key's location is all the index needs
            }
        }
    }

    private ConfigException error(JsonLocation location, String keyPath, String problem) {
        return new ConfigException(source, location.getLineNr(), location.getColumnNr(), keyPath, problem, null);
    }

    private static String describe(JsonToken token, String text) {
        return switch (token) {
            case START_ARRAY -> "a list";
            case VALUE_STRING -> "the text '" + text + "'";
            default -> text;
        };
    }
}
