package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.valet.common.portal.DonorAddress;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;

/**
 * The Jackson deserializers for every scalar type a Valet configuration uses. Value types with their own syntax
 * (sizes, durations, addresses, transports) go through the same {@code parse} methods as command-line flags;
 * numbers and booleans are read strictly, without Jackson's coercions, so {@code "128"} in quotes, {@code 1.5}
 * for a count and {@code 1} for a boolean are refused instead of silently converted.
 */
final class ConfigModule extends SimpleModule {
    private static final long serialVersionUID = 1L;

    private static final String WHOLE_NUMBER = "a whole number";
    private static final String NUMBER = "a number";
    private static final String BOOLEAN = "true or false";

    ConfigModule() {
        super("valet-config");
        addDeserializer(ByteSize.class, textual(ByteSize.class, ByteSize.EXPECTED, ByteSize::parse, ""));
        addDeserializer(Duration.class, textual(Duration.class, Durations.EXPECTED, Durations::parse, ""));
        addDeserializer(DonorAddress.class, textual(DonorAddress.class, "an address like 0.0.0.0:7070",
                DonorAddress::parse, " (an IPv6 address must be quoted in YAML: \"[::1]:7070\")"));
        addDeserializer(TransportChoice.class,
                textual(TransportChoice.class, TransportChoice.EXPECTED, TransportChoice::parse, ""));
        addDeserializer(VictimPolicy.class,
                textual(VictimPolicy.class, VictimPolicy.EXPECTED, VictimPolicy::parse, ""));
        addDeserializer(Path.class, textual(Path.class, "a file path", ConfigModule::parsePath, ""));
        addDeserializer(String.class, textual(String.class, "text", Function.identity(), ""));
        addDeserializer(Integer.class,
                new ConfigValueDeserializer<>(Integer.class, WHOLE_NUMBER, "", ConfigModule::readInteger));
        addDeserializer(Long.class,
                new ConfigValueDeserializer<>(Long.class, WHOLE_NUMBER, "", ConfigModule::readLong));
        addDeserializer(Double.class,
                new ConfigValueDeserializer<>(Double.class, NUMBER, "", ConfigModule::readDouble));
        addDeserializer(Boolean.class,
                new ConfigValueDeserializer<>(Boolean.class, BOOLEAN, "", ConfigModule::readBoolean));
    }

    /** A type written as text; a YAML number is read by its text too, so {@code memory: 4096} works. */
    private static <T> ConfigValueDeserializer<T> textual(Class<T> type, String expected,
            Function<String, T> parse, String hintForCollections) {
        return new ConfigValueDeserializer<>(type, expected, hintForCollections,
                parser -> parse.apply(parser.getText()));
    }

    private static Path parsePath(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("empty path (expected a file path)");
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("bad path '" + text + "': " + e.getReason(), e);
        }
    }

    private static Integer readInteger(JsonParser parser) throws IOException {
        long value = readLong(parser);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(parser.getText() + " is too large (expected " + WHOLE_NUMBER + ")");
        }
        return (int) value;
    }

    private static Long readLong(JsonParser parser) throws IOException {
        if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT) {
            throw new IllegalArgumentException(mismatch(WHOLE_NUMBER, parser));
        }
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw new IllegalArgumentException(parser.getText() + " is too large (expected " + WHOLE_NUMBER + ")");
        }
        return parser.getLongValue();
    }

    private static Double readDouble(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
            throw new IllegalArgumentException(mismatch(NUMBER, parser));
        }
        try {
            return parser.getDoubleValue();
        } catch (StreamReadException e) {
            // YAML's own spellings, which the YAML parser tags as floats but cannot convert
            return switch (parser.getText().toLowerCase(Locale.ROOT)) {
                case ".nan" -> Double.NaN;
                case ".inf", "+.inf" -> Double.POSITIVE_INFINITY;
                case "-.inf" -> Double.NEGATIVE_INFINITY;
                default -> throw new IllegalArgumentException("expected " + NUMBER + ", got " + parser.getText(), e);
            };
        }
    }

    private static Boolean readBoolean(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
            return token == JsonToken.VALUE_TRUE;
        }
        throw new IllegalArgumentException(mismatch(BOOLEAN, parser));
    }

    /** "expected a whole number, got 1.5", with a nudge when a number or boolean was written in quotes. */
    private static String mismatch(String expected, JsonParser parser) throws IOException {
        String text = parser.getText();
        boolean quotedLike = parser.currentToken() == JsonToken.VALUE_STRING;
        String found = quotedLike ? "'" + text + "'" : text;
        String hint = quotedLike && looksNumericOrBoolean(text) ? " (write it without quotes)" : "";
        return "expected " + expected + ", got " + found + hint;
    }

    private static boolean looksNumericOrBoolean(String text) {
        return text.matches("[-+]?[0-9]+(\\.[0-9]*)?") || text.equalsIgnoreCase("true")
                || text.equalsIgnoreCase("false");
    }
}
