package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;

import java.io.IOException;

/**
 * Reads one scalar configuration value with the same parser the command line uses, so a value is accepted or
 * refused, and explained, the same way wherever it is written. Errors become {@link BadConfigValueException}s
 * carrying the parser's message; a list or mapping where a scalar belongs is refused here, saying what was
 * expected.
 *
 * <p>A YAML {@code null} is left to {@link ConfigLoader}, which refuses it with the key's location.
 *
 * @param <T> the value type
 */
class ConfigValueDeserializer<T> extends StdScalarDeserializer<T> {
    private static final long serialVersionUID = 1L;

    /**
     * Turns the scalar the parser is on into a value, or throws {@link IllegalArgumentException} with the
     * whole problem.
     */
    @FunctionalInterface
    interface ScalarReader<T> {
        T read(JsonParser parser) throws IOException;
    }

    private final String expected;
    private final String hintForCollections;
    private final ScalarReader<T> reader;

    /**
     * @param type               the value type
     * @param expected           what a good value looks like, completing "expected ..."
     * @param hintForCollections appended when a list or mapping is found, to explain a likely YAML slip, or ""
     * @param reader             reads the scalar the parser is on
     */
    ConfigValueDeserializer(Class<T> type, String expected, String hintForCollections, ScalarReader<T> reader) {
        super(type);
        this.expected = expected;
        this.hintForCollections = hintForCollections;
        this.reader = reader;
    }

    @Override
    public T deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.START_ARRAY || token == JsonToken.START_OBJECT) {
            String found = token == JsonToken.START_ARRAY ? "a list" : "a mapping";
            throw new BadConfigValueException(parser, "expected " + expected + ", got " + found + hintForCollections,
                    handledType());
        }
        if (!token.isScalarValue()) {
            throw new BadConfigValueException(parser, "expected " + expected, handledType());
        }
        try {
            return reader.read(parser);
        } catch (IllegalArgumentException e) {
            throw new BadConfigValueException(parser, e.getMessage(), handledType());
        }
    }
}
