package dev.valet.cli;

import dev.valet.common.config.ByteSize;
import dev.valet.common.config.Durations;
import dev.valet.common.config.EncryptionMode;
import dev.valet.common.config.TransportChoice;
import dev.valet.common.portal.DonorAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.function.Function;

/**
 * Picocli converters for the value types flags share with YAML, through the same parse methods, so a flag and a key
 * accept the same text. A bad value is one line: {@code Invalid value for option '--memory': bad size '8X'
 * (expected a size like 4096, 64K, 512M or 8G; units are K, M, G and T)}.
 */
final class Converters {

    private Converters() {
    }

    /** A size: {@code 4096}, {@code 64K}, {@code 8G}. */
    static final class Size extends Parsing<ByteSize> {
        Size() {
            super(ByteSize::parse);
        }
    }

    /** A duration with its unit: {@code 500ms}, {@code 2s}. */
    static final class Time extends Parsing<Duration> {
        Time() {
            super(Durations::parse);
        }
    }

    /** An address to listen on: {@code 0.0.0.0:7070}, {@code [::1]:7070}; port 0 picks a free port. */
    static final class ListenAddress extends Parsing<DonorAddress> {
        ListenAddress() {
            super(DonorAddress::parseListen);
        }
    }

    /** {@code rdma}, {@code tcp} or {@code auto}, in any case. */
    static final class Transport extends Parsing<TransportChoice> {
        Transport() {
            super(TransportChoice::parse);
        }
    }

    static final class Encryption extends Parsing<EncryptionMode> {
        Encryption() {
            super(EncryptionMode::parse);
        }
    }

    /** A parse method's IllegalArgumentException, which says what is wrong and what was expected, as the error. */
    private abstract static class Parsing<T> implements ITypeConverter<T> {
        private final Function<String, T> parse;

        Parsing(Function<String, T> parse) {
            this.parse = parse;
        }

        @Override
        public T convert(String value) {
            try {
                return parse.apply(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
