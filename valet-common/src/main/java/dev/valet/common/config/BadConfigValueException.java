package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

/**
 * Thrown by {@link ConfigValueDeserializer} with a message already written for the operator, so that
 * {@link ConfigLoader} passes it on as it is instead of rewording a Jackson message.
 */
final class BadConfigValueException extends MismatchedInputException {
    private static final long serialVersionUID = 1L;

    BadConfigValueException(JsonParser parser, String problem, Class<?> targetType) {
        super(parser, problem, targetType);
    }
}
