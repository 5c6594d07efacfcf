package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads a YAML configuration file into a configuration record, or explains exactly what is wrong with it.
 *
 * <p>Binding is strict so that a typo can never quietly fall back to a default: unknown keys, keys without a
 * value, duplicate keys, quoted numbers and fractional counts are all refused. The record supplies defaults for
 * the keys that are absent (an empty file gives all defaults). After binding, relative paths are resolved against
 * the file's directory ({@link FileRelativeConfig}) and the record's rules are checked ({@link ValidatedConfig}).
 *
 * <p>Every failure is a {@link ConfigException} reading {@code <file>:<line>:<column>: <key>: <problem>}.
 *
 * <p>Target types are records with a {@code @JsonCreator} whose parameters are wrapper types ({@code Integer},
 * not {@code int}) so that an absent key arrives as {@code null} and can be given its default.
 */
public final class ConfigLoader {

    /** Configured once; Jackson mappers are thread-safe once configured. */
    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfig(LogicalType.Integer, rules -> rules
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Float, rules -> rules
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Boolean, rules -> rules
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail))
            .addModule(new ConfigModule())
            .build();

    private ConfigLoader() {
    }

    /**
     * Reads, binds and validates a YAML file (UTF-8). Relative paths in the result are resolved against the
     * file's directory.
     *
     * @throws ConfigException if the file is missing or unreadable, or anything in it is wrong
     */
    public static <T> T load(Path file, Class<T> type) {
        String source = file.toString();
        return read(source, readFile(file), type, file.toAbsolutePath().getParent());
    }

    /**
     * Binds and validates YAML text. Relative paths are left as they are, since there is no file to resolve them
     * against.
     *
     * @param sourceName what to call the text in error messages
     * @throws ConfigException if anything in the text is wrong
     */
    public static <T> T parse(String sourceName, String yamlText, Class<T> type) {
        return read(sourceName, yamlText, type, null);
    }

    private static <T> T read(String source, String yamlText, Class<T> type, Path directory) {
        YamlKeyIndex keys = YamlKeyIndex.scan(source, yamlText, MAPPER);
        T config = bind(source, yamlText, type, keys);
        if (!keys.keysWithoutValue().isEmpty()) {
            throw error(source, keys, keys.keysWithoutValue().get(0), "no value given (write a value, or remove"
                    + " the key to use the default)", null);
        }
        if (directory != null && config instanceof FileRelativeConfig<?> relative) {
            config = type.cast(relative.resolveRelativePaths(directory));
        }
        if (config instanceof ValidatedConfig validated) {
            try {
                validated.validate();
            } catch (ConfigProblem problem) {
                String note = keys.locationOf(problem.keyPath()).isPresent() ? ""
                        : " (" + problem.keyPath() + " is not set in this file, so its default applies)";
                throw error(source, keys, problem.keyPath(), problem.problem() + note, problem);
            }
        }
        return config;
    }

    private static <T> T bind(String source, String yamlText, Class<T> type, YamlKeyIndex keys) {
        try {
            return keys.isEmpty() ? MAPPER.treeToValue(MAPPER.createObjectNode(), type)
                    : MAPPER.readValue(yamlText, type);
        } catch (InvalidDefinitionException e) {
            throw new IllegalStateException("cannot bind configuration to " + type.getName() + ": "
                    + e.getOriginalMessage(), e);
        } catch (UnrecognizedPropertyException e) {
            String keyPath = keyPath(e);
            throw error(source, keys, keyPath,
                    unknownKey(e.getPropertyName(), e.getKnownPropertyIds(), e.getReferringClass()), e);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw error(source, keys, keyPath(e), String.valueOf(cause.getMessage()), e);
        } catch (MismatchedInputException e) {
            throw error(source, keys, keyPath(e), mismatch(e), e);
        } catch (JsonMappingException e) {
            throw error(source, keys, keyPath(e), e.getOriginalMessage(), e);
        } catch (StreamReadException e) {
            throw YamlKeyIndex.syntaxError(source, yamlText, e);
        } catch (IOException e) {
            throw new ConfigException(source, 0, 0, "", "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * An error at the key's own line when the file has it, else at the place Jackson reported, else with no
     * place at all.
     */
    private static ConfigException error(String source, YamlKeyIndex keys, String keyPath, String problem,
            Throwable cause) {
        Optional<JsonLocation> location = keys.locationOf(keyPath);
        if (location.isEmpty() && cause instanceof JsonMappingException mapping && mapping.getLocation() != null
                && !keyPath.isEmpty()) {
            location = Optional.of(mapping.getLocation());
        }
        int line = location.map(JsonLocation::getLineNr).orElse(0);
        int column = location.map(JsonLocation::getColumnNr).orElse(0);
        return new ConfigException(source, line, column, keyPath, problem, cause);
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

    /** The dotted path Jackson was binding, in the same form as {@link YamlKeyIndex} keys: {@code a.b[2].c}. */
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

    private static String unknownKey(String key, Collection<Object> knownKeys, Class<?> owner) {
        List<String> valid = new ArrayList<>();
        knownKeys.forEach(known -> valid.add(String.valueOf(known)));
        valid.sort(Comparator.comparingInt((String name) -> declarationOrder(owner, name))
                .thenComparing(Comparator.naturalOrder()));
        String suggestion = closest(key, valid).map(match -> " (did you mean '" + match + "'?)").orElse("");
        return "unknown key '" + key + "'" + suggestion + "; valid keys: " + String.join(", ", valid);
    }

    /** Where a key's record component is declared, so keys are listed in the order the documentation uses. */
    private static int declarationOrder(Class<?> owner, String key) {
        RecordComponent[] components = owner == null || !owner.isRecord() ? new RecordComponent[0]
                : owner.getRecordComponents();
        for (int i = 0; i < components.length; i++) {
            if (components[i].getName().equals(key)) {
                return i;
            }
        }
        return components.length;
    }

    /** The valid key the operator most likely meant: same letters ignoring case and separators, or a near typo. */
    private static Optional<String> closest(String key, List<String> valid) {
        String squashed = squash(key);
        String best = null;
        int bestDistance = 3;
        for (String candidate : valid) {
            if (squash(candidate).equals(squashed)) {
                return Optional.of(candidate);
            }
            int distance = editDistance(key.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return Optional.ofNullable(best);
    }

    private static String squash(String key) {
        return key.replaceAll("[-_. ]", "").toLowerCase(Locale.ROOT);
    }

    /** Optimal string alignment distance: Levenshtein plus swapping two adjacent letters, each costing 1. */
    private static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int substitution = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + substitution);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static String readFile(Path file) {
        String source = file.toString();
        if (Files.isDirectory(file)) {
            throw new ConfigException(source, 0, 0, "", "is a directory (expected a YAML file)", null);
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, 0, 0, "", "no such file", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(source, 0, 0, "", "permission denied", e);
        } catch (MalformedInputException e) {
            throw new ConfigException(source, 0, 0, "", "not UTF-8 text (expected a YAML file)", e);
        } catch (IOException e) {
            throw new ConfigException(source, 0, 0, "", "cannot read: " + e.getMessage(), e);
        }
    }
}
