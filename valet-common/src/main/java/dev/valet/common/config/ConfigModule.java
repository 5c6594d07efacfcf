package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.valet.common.portal.DonorAddress;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.function.Function;

/**
 * The Jackson deserializers and serializers for every scalar type a Valet configuration uses. Value types with
 * their own syntax (sizes, durations, addresses, transports) are read through the same {@code parse} methods as
 * command-line flags, and written in that same syntax ({@code 8G}, {@code 1s}), so the defaults and the overrides
 * that {@link ConfigLoader} lays under and over a file read back exactly. Numbers and booleans are read strictly,
 * without Jackson's coercions, so {@code "128"} in quotes, {@code 1.5} for a count and {@code 1} for a boolean are
 * refused instead of silently converted.
 */
final class ConfigModule extends SimpleModule {
    private static final long serialVersionUID = 1L;

    private static final String WHOLE_NUMBER = "a whole number";
    private static final String NUMBER = "a number";
    private static final String BOOLEAN = "true or false";
    private static final String IPV6_HINT = " (an IPv6 address must be quoted in YAML: \"[::1]:7070\")";

    /** Records that are one value written as text, not sections of keys. */
    private static final Set<Class<?>> SCALAR_RECORDS = Set.of(ByteSize.class, DonorAddress.class);

    ConfigModule() {
        super("valet-config");
        addDeserializer(ByteSize.class, textual(ByteSize.class, ByteSize.EXPECTED, ByteSize::parse, ""));
        addDeserializer(Duration.class, textual(Duration.class, Durations.EXPECTED, Durations::parse, ""));
        addDeserializer(DonorAddress.class, textual(DonorAddress.class, "an address like 0.0.0.0:7070",
                DonorAddress::parse, IPV6_HINT));
        addDeserializer(TransportChoice.class,
                textual(TransportChoice.class, TransportChoice.EXPECTED, TransportChoice::parse, ""));
        addDeserializer(VictimPolicy.class,
                textual(VictimPolicy.class, VictimPolicy.EXPECTED, VictimPolicy::parse, ""));
        addDeserializer(EncryptionMode.class,
                textual(EncryptionMode.class, EncryptionMode.EXPECTED, EncryptionMode::parse, ""));
        addDeserializer(Path.class, textual(Path.class, "a file path", ConfigModule::parsePath, ""));
        addDeserializer(String.class, textual(String.class, "text", Function.identity(), ""));
        // Keys are primitives (int, boolean) in the records and may be wrappers elsewhere: both read strictly.
        ConfigValueDeserializer<Integer> integer =
                new ConfigValueDeserializer<>(Integer.class, WHOLE_NUMBER, "", ConfigModule::readInteger);
        ConfigValueDeserializer<Long> whole =
                new ConfigValueDeserializer<>(Long.class, WHOLE_NUMBER, "", ConfigModule::readLong);
        ConfigValueDeserializer<Double> number =
                new ConfigValueDeserializer<>(Double.class, NUMBER, "", ConfigModule::readDouble);
        ConfigValueDeserializer<Boolean> bool =
                new ConfigValueDeserializer<>(Boolean.class, BOOLEAN, "", ConfigModule::readBoolean);
        addDeserializer(Integer.class, integer);
        addDeserializer(int.class, integer);
        addDeserializer(Long.class, whole);
        addDeserializer(long.class, whole);
        addDeserializer(Double.class, number);
        addDeserializer(double.class, number);
        addDeserializer(Boolean.class, bool);
        addDeserializer(boolean.class, bool);
        // Each prints what its parse method reads back: ByteSize "8G", DonorAddress "[::1]:7070", enums' configName.
        for (Class<?> type : new Class<?>[] {ByteSize.class, DonorAddress.class, TransportChoice.class,
                VictimPolicy.class, EncryptionMode.class, Path.class}) {
            addSerializer(type, ToStringSerializer.instance);
        }
        addSerializer(Duration.class, new DurationSerializer());
    }

    /** Whether a record type is a single value ({@code 8G}) rather than a section of keys. */
    static boolean isScalarRecord(Class<?> type) {
        return SCALAR_RECORDS.contains(type);
    }

    /**
     * The {@code listen} key's reader: an address like any other, except that port 0 ("any free port", for tests and
     * scripts that read the bound port from the donor's ready file) is allowed.
     */
    static final class ListenAddressDeserializer extends ConfigValueDeserializer<DonorAddress> {
        private static final long serialVersionUID = 1L;

        ListenAddressDeserializer() {
            super(DonorAddress.class, "an address like 0.0.0.0:7070", IPV6_HINT,
                    parser -> DonorAddress.parseListen(parser.getText()));
        }
    }

    /** Durations in configuration syntax ({@code 1500ms}), not Java's ({@code PT1.5S}). */
    private static final class DurationSerializer extends StdScalarSerializer<Duration> {
        private static final long serialVersionUID = 1L;

        DurationSerializer() {
            super(Duration.class);
        }

        @Override
        public void serialize(Duration value, JsonGenerator generator, SerializerProvider provider)
                throws IOException {
            generator.writeString(Durations.format(value));
        }
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
        return parser.getDoubleValue();
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
