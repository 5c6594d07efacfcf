package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A YAML document read once with a bare parser: its keys and values as a tree, where each key is written, and each
 * scalar exactly as written. Jackson's own tree keeps neither: {@link ConfigLoader} needs the places so that any
 * error about a key, including a rule broken after binding, sends the operator to the right line, and the written
 * text so that a value is read as the operator wrote it ({@code identity: 007} is the text {@code 007}, not the
 * number 7; see {@link ConfigTreeParser}).
 *
 * <p>The same pass refuses what binding would silently accept: a root that is not a mapping, a key written
 * twice (YAML keeps the last one) and a second document after {@code ---}. It also notes keys given no value,
 * which the loader refuses once binding has had the chance to report an unknown key instead.
 */
final class YamlDocument {

    /** {@code key: [fd00::1]:7070} without quotes. */
    private static final Pattern UNQUOTED_IPV6 = Pattern.compile(":\\s+\\[[0-9A-Fa-f:.%]*]:");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Map<String, JsonLocation> keyLocations = new HashMap<>();
    private final Map<String, String> writtenText = new HashMap<>();
    private final List<String> keysWithoutValue = new ArrayList<>();
    private final String source;
    private ObjectNode tree = NODES.objectNode();
    private boolean empty;

    private YamlDocument(String source) {
        this.source = source;
    }

    /**
     * Reads {@code yamlText}: its tree, and where each key and value is written.
     *
     * @throws ConfigException for YAML syntax errors, a root that is not a mapping, duplicate keys and more than
     *                         one document
     */
    static YamlDocument scan(String source, String yamlText, ObjectMapper yamlMapper) {
        YamlDocument index = new YamlDocument(source);
        try (JsonParser parser = yamlMapper.createParser(yamlText)) {
            JsonToken root = parser.nextToken();
            if (root == null || root == JsonToken.VALUE_NULL) {
                index.empty = true;
            } else if (root == JsonToken.START_OBJECT) {
                index.tree = index.scanMapping(parser, "");
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

    /**
     * The document's keys and values; a key without a value holds a {@code NullNode}. Empty for an empty document.
     */
    ObjectNode tree() {
        return tree;
    }

    /** Every scalar of the document as written, by key path ({@code a.b[2].c}). */
    Map<String, String> writtenText() {
        return writtenText;
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

    private ObjectNode scanMapping(JsonParser parser, String path) throws IOException {
        ObjectNode mapping = NODES.objectNode();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            String keyPath = path.isEmpty() ? key : path + "." + key;
            JsonLocation location = parser.currentTokenLocation();
            JsonLocation earlier = keyLocations.putIfAbsent(keyPath, location);
            if (earlier != null) {
                throw error(location, keyPath, "duplicate key '" + key + "' (first set on line "
                        + earlier.getLineNr() + "; keep one of them)");
            }
            mapping.set(key, scanValue(parser, parser.nextToken(), keyPath));
        }
        return mapping;
    }

    private JsonNode scanValue(JsonParser parser, JsonToken token, String path) throws IOException {
        switch (token) {
            case START_OBJECT -> {
                return scanMapping(parser, path);
            }
            case START_ARRAY -> {
                ArrayNode list = NODES.arrayNode();
                int index = 0;
                JsonToken element;
                while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
                    String elementPath = path + "[" + index++ + "]";
                    keyLocations.put(elementPath, parser.currentTokenLocation());
                    list.add(scanValue(parser, element, elementPath));
                }
                return list;
            }
            case VALUE_NULL -> {
                keysWithoutValue.add(path);
                return NODES.nullNode();
            }
            default -> {
                writtenText.put(path, parser.getText());
                return scalar(parser, token);
            }
        }
    }

    /** The scalar the parser is on, typed as YAML types it: text, whole number, number or boolean. */
    private static JsonNode scalar(JsonParser parser, JsonToken token) throws IOException {
        return switch (token) {
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> NODES.numberNode(parser.getIntValue());
                case LONG -> NODES.numberNode(parser.getLongValue());
                default -> NODES.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(floatValue(parser));
            case VALUE_TRUE, VALUE_FALSE -> NODES.booleanNode(token == JsonToken.VALUE_TRUE);
            default -> NODES.textNode(parser.getText());
        };
    }

    /** A YAML float, including YAML's own spellings, which the parser tags as floats but cannot convert. */
    private static double floatValue(JsonParser parser) throws IOException {
        try {
            return parser.getDoubleValue();
        } catch (StreamReadException e) {
            return switch (parser.getText().toLowerCase(Locale.ROOT)) {
                case ".nan" -> Double.NaN;
                case ".inf", "+.inf" -> Double.POSITIVE_INFINITY;
                case "-.inf" -> Double.NEGATIVE_INFINITY;
                default -> throw e;
            };
        }
    }

    /**
     * One scalar given outside a document (a command-line flag's value), typed as YAML would type it: {@code 64} a
     * whole number, {@code true} a boolean; anything that is not a lone scalar, or is empty, stays text.
     */
    static JsonNode scalar(String text, ObjectMapper yamlMapper) {
        try (JsonParser parser = yamlMapper.createParser(text)) {
            JsonToken token = parser.nextToken();
            if (token != null && token.isScalarValue() && token != JsonToken.VALUE_NULL) {
                JsonNode node = scalar(parser, token);
                if (parser.nextToken() == null) {
                    return node;
                }
            }
        } catch (IOException notAScalar) {
            // a syntax error: leave it to the key's own reader to refuse the text
        }
        return NODES.textNode(text);
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
