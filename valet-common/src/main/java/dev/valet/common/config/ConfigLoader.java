package dev.valet.common.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a YAML configuration file into a configuration record, or explains exactly what is wrong with it.
 *
 * <p>The record declares each key once: a component (its javadoc is the key's documentation), its default in the
 * record's public static {@code defaults()} (a section's {@code DEFAULTS}), its rules in its {@code validate()}.
 * The loader puts the
 * configuration together as a tree: the defaults, the file laid over them (a path the file writes is resolved
 * against its directory, see {@link RelativeToConfigFile}), then the {@link ConfigOverride}s of command-line flags.
 * It binds that tree with the record's canonical constructor and checks the rules, so a flag's value is read and
 * checked exactly as the same key in the file would be.
 *
 * <p>Binding is strict so that a typo can never quietly fall back to a default: unknown keys, keys without a
 * value, duplicate keys, quoted numbers and fractional counts are all refused. Every failure is a
 * {@link ConfigException} reading {@code <file>:<line>:<column>: <key>: <problem>}, or {@code <flag>: <key>:
 * <problem>} when a flag set the key.
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
     * Reads, binds and validates a YAML file (UTF-8). Relative paths in the file and in the defaults are resolved
     * against the file's directory.
     *
     * @throws ConfigException if the file is missing or unreadable, or anything in it is wrong
     */
    public static <T> T load(Path file, Class<T> type) {
        return load(file, type, List.of());
    }

    /**
     * Like {@link #load(Path, Class)}, with {@code overrides} laid over the file: a path they give is kept as it is
     * (relative to the working directory).
     *
     * @throws ConfigException if anything in the file or the overrides is wrong
     */
    public static <T> T load(Path file, Class<T> type, List<ConfigOverride> overrides) {
        return read(file.toString(), readFile(file), type, file.toAbsolutePath().getParent(), overrides);
    }

    /**
     * Binds and validates YAML text. Relative paths are left as they are, since there is no file to resolve them
     * against.
     *
     * @param sourceName what to call the text in error messages
     * @throws ConfigException if anything in the text is wrong
     */
    public static <T> T parse(String sourceName, String yamlText, Class<T> type) {
        return parse(sourceName, yamlText, type, List.of());
    }

    /**
     * Like {@link #parse(String, String, Class)}, with {@code overrides} laid over the text.
     *
     * @throws ConfigException if anything in the text or the overrides is wrong
     */
    public static <T> T parse(String sourceName, String yamlText, Class<T> type, List<ConfigOverride> overrides) {
        return read(sourceName, yamlText, type, null, overrides);
    }

    /**
     * {@code config} with some keys set otherwise, bound and validated again: what a command does to a loaded
     * configuration ({@code auth.secretFile} of the donors it started itself), and what a test does to a
     * configuration of its own.
     *
     * @throws ConfigException naming the override's origin if its value is wrong or breaks a rule
     */
    public static <T extends Record> T override(T config, ConfigOverride... overrides) {
        @SuppressWarnings("unchecked")
        Class<T> type = (Class<T>) config.getClass();
        String name = type.getSimpleName();
        return new ConfigBinding<>(MAPPER, type, name, YamlDocument.scan(name, "", MAPPER), List.of(overrides), false)
                .read(ConfigTree.of(config, MAPPER), new HashMap<>());
    }

    /**
     * The default of a key as it would be written in YAML ({@code 1G}, {@code 3s}), or empty when the key is a
     * section or its default is computed from other keys ({@link ComputedDefault}).
     *
     * @param keyPath dotted path of the key, {@code failover.donorTimeout}
     * @throws IllegalArgumentException if {@code type} has no such key
     */
    public static Optional<String> defaultText(Class<?> type, String keyPath) {
        if (ConfigTree.typeAt(type, keyPath) == null) {
            throw new IllegalArgumentException(type.getSimpleName() + " has no key " + keyPath);
        }
        JsonNode node = ConfigTree.defaultsOf(type, MAPPER);
        for (String key : keyPath.split("\\.")) {
            node = node.path(key);
        }
        return node.isValueNode() ? Optional.of(node.asText()) : Optional.empty();
    }

    private static <T> T read(String source, String yamlText, Class<T> type, Path directory,
                              List<ConfigOverride> overrides) {
        YamlDocument document = YamlDocument.scan(source, yamlText, MAPPER);
        ObjectNode tree = ConfigTree.overlay(ConfigTree.defaultsOf(type, MAPPER), document.tree());
        Map<String, String> writtenText = new HashMap<>(document.writtenText());
        if (directory != null) {
            ConfigTree.resolvePaths(tree, type, directory, writtenText::remove);
        }
        return new ConfigBinding<>(MAPPER, type, source, document, overrides, true).read(tree, writtenText);
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
