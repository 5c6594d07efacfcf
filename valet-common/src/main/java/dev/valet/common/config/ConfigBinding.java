package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The last steps of reading a configuration: lay the overrides on the tree, bind it to the record, refuse keys left
 * without a value, check the record's rules; and word every failure as a {@link ConfigException} at the place to fix,
 * which is the override's origin ({@code --memory}) when an override set the key, else the key's line in the file.
 *
 * @param <T> the configuration type
 */
final class ConfigBinding<T> {

    private final ObjectMapper mapper;
    private final Class<T> type;
    private final String source;
    private final YamlDocument document;
    private final List<ConfigOverride> overrides;
    private final boolean overDefaults;

    /**
     * @param source       the file's name (or what to call the text) in messages
     * @param document     the file, for the lines of its keys
     * @param overrides    what to lay over the file, in order (a later one wins)
     * @param overDefaults whether the tree holds the defaults under the file, so that a rule broken by a key
     *                     neither the file nor an override sets can be blamed on its default
     */
    ConfigBinding(ObjectMapper mapper, Class<T> type, String source, YamlDocument document,
                  List<ConfigOverride> overrides, boolean overDefaults) {
        this.mapper = mapper;
        this.type = type;
        this.source = source;
        this.document = document;
        this.overrides = List.copyOf(overrides);
        this.overDefaults = overDefaults;
    }

    /**
     * @param tree        the defaults (or a configuration) with the file laid over them
     * @param writtenText the file's scalars as written, by key path; changed here as overrides replace them
     */
    T read(ObjectNode tree, Map<String, String> writtenText) {
        for (ConfigOverride override : overrides) {
            String keyPath = override.keyPath();
            writtenText.keySet().removeIf(path -> path.equals(keyPath) || path.startsWith(keyPath + ".")
                    || path.startsWith(keyPath + "["));
            JsonNode value = valueOf(override);
            if (override.value() instanceof String text && !value.isTextual()) {
                writtenText.put(keyPath, text);
            }
            ConfigTree.set(tree, keyPath, value);
        }
        T config = bind(tree, writtenText);
        if (!document.keysWithoutValue().isEmpty()) {
            String keyPath = document.keysWithoutValue().get(0);
            throw inFile(keyPath, "no value given (write a value, or remove the key to use the default)", null);
        }
        if (config instanceof ValidatedConfig validated) {
            try {
                validated.validate();
            } catch (ConfigProblem problem) {
                throw error(problem.keyPath(), problem.problem() + defaultNote(problem.keyPath()), problem);
            }
        }
        return config;
    }

    /**
     * An override's value as a tree node. Text is read as a YAML scalar would be for a numeric or boolean key
     * ({@code 64}, {@code true}), and taken verbatim for any other key, whose reader parses it ({@code 8G},
     * {@code 3s}, a path with a {@code #} in it); a typed value is written in configuration syntax.
     */
    private JsonNode valueOf(ConfigOverride override) {
        Object value = override.value();
        if (value instanceof String text) {
            Class<?> target = ConfigTree.typeAt(type, override.keyPath());
            boolean numberOrBoolean = target != null && (target.isPrimitive() || target == Boolean.class
                    || Number.class.isAssignableFrom(target));
            return numberOrBoolean ? YamlDocument.scalar(text, mapper) : TextNode.valueOf(text);
        }
        if (value instanceof Record section && ConfigTree.isSection(section.getClass())) {
            return ConfigTree.of(section, mapper);
        }
        return mapper.valueToTree(value);
    }

    private T bind(ObjectNode tree, Map<String, String> writtenText) {
        // Not closed: a tree holds no resources, and the messages below read the token the parser stopped at.
        JsonParser parser = new ConfigTreeParser(tree, mapper, writtenText);
        try {
            return mapper.readValue(parser, type);
        } catch (InvalidDefinitionException e) {
            throw new IllegalStateException("cannot bind configuration to " + type.getName() + ": "
                    + e.getOriginalMessage(), e);
        } catch (UnrecognizedPropertyException e) {
            throw error(keyPath(e), UnknownKeys.message(e.getPropertyName(), e.getKnownPropertyIds(),
                    e.getReferringClass()), e);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw error(keyPath(e), String.valueOf(cause.getMessage()), e);
        } catch (MismatchedInputException e) {
            throw error(keyPath(e), mismatch(e), e);
        } catch (JsonMappingException e) {
            throw error(keyPath(e), e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("binding a configuration tree: " + e.getMessage(), e);
        }
    }

    /** Why a rule broken by a key that nobody set is reported without a line. */
    private String defaultNote(String keyPath) {
        if (!overDefaults || overrideOf(keyPath).isPresent() || document.locationOf(keyPath).isPresent()) {
            return "";
        }
        return document.isEmpty() ? " (" + keyPath + " is not set, so its default applies)"
                : " (" + keyPath + " is not set in this file, so its default applies)";
    }

    /** An error at the override that set the key, else at the key's own line in the file, else with no place. */
    private ConfigException error(String keyPath, String problem, Throwable cause) {
        Optional<ConfigOverride> override = overrideOf(keyPath);
        if (override.isPresent()) {
            return new ConfigException(override.get().origin(), 0, 0, keyPath, problem, cause);
        }
        return inFile(keyPath, problem, cause);
    }

    /** An error at the key's line in the file, or with no place when the file does not have it. */
    private ConfigException inFile(String keyPath, String problem, Throwable cause) {
        Optional<JsonLocation> location = document.locationOf(keyPath);
        int line = location.map(JsonLocation::getLineNr).orElse(0);
        int column = location.map(JsonLocation::getColumnNr).orElse(0);
        return new ConfigException(source, line, column, keyPath, problem, cause);
    }

    /** The last override that set {@code keyPath} or a section holding it. */
    private Optional<ConfigOverride> overrideOf(String keyPath) {
        for (int i = overrides.size() - 1; i >= 0; i--) {
            String set = overrides.get(i).keyPath();
            if (keyPath.equals(set) || keyPath.startsWith(set + ".") || keyPath.startsWith(set + "[")) {
                return Optional.of(overrides.get(i));
            }
        }
        return Optional.empty();
    }

    /**
     * A value of the wrong shape. Values have their own deserializers with their own messages; what reaches here is
     * mostly a section (a record) given as a single value or a list: say which keys the section takes.
     */
    private static String mismatch(MismatchedInputException e) {
        Class<?> target = e.getTargetType();
        if (e instanceof BadConfigValueException || target == null || !target.isRecord()) {
            return e.getOriginalMessage();
        }
        List<String> sectionKeys = new ArrayList<>();
        for (RecordComponent component : target.getRecordComponents()) {
            sectionKeys.add(component.getName());
        }
        return "expected a section with the keys " + String.join(", ", sectionKeys) + " (one per line, indented"
                + " under this key), got " + shapeOf(e);
    }

    private static String shapeOf(MismatchedInputException e) {
        if (e.getProcessor() instanceof JsonParser parser && parser.currentToken() != null) {
            return switch (parser.currentToken()) {
                case START_ARRAY -> "a list";
                case VALUE_STRING -> "'" + currentText(parser) + "'";
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> currentText(parser);
                default -> "a single value";
            };
        }
        return "a single value";
    }

    private static String currentText(JsonParser parser) {
        try {
            return parser.getText();
        } catch (IOException e) {
            return "a single value";
        }
    }

    /** The dotted path Jackson was binding, in the same form as {@link YamlDocument} keys: {@code a.b[2].c}. */
    private static String keyPath(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : e.getPath()) {
            if (reference.getFieldName() != null) {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }
}
