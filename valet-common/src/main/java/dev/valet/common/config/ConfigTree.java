package dev.valet.common.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The configuration as a tree of keys, the form in which {@link ConfigLoader} puts together what it binds: the
 * defaults, the file laid over them, then the overrides. Everything here works from the configuration records
 * themselves (their components, their {@code defaults()}, the annotations on their keys), so a new key needs nothing
 * here.
 */
final class ConfigTree {

    private ConfigTree() {
    }

    /**
     * The defaults of {@code type} as a tree: its public static {@code defaults()} method or {@code DEFAULTS} field
     * (a section's); an empty tree when it has neither (every key then required, or null when absent).
     */
    static ObjectNode defaultsOf(Class<?> type, ObjectMapper mapper) {
        Object defaults = null;
        try {
            Method method = type.getMethod("defaults");
            if (Modifier.isStatic(method.getModifiers()) && method.getReturnType() == type) {
                defaults = invoke(method, null);
            }
        } catch (NoSuchMethodException noMethod) {
            try {
                Field field = type.getField("DEFAULTS");
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == type) {
                    defaults = field.get(null);
                }
            } catch (NoSuchFieldException | IllegalAccessException noField) {
                // no defaults: every key must be written
            }
        }
        return defaults instanceof Record record ? of(record, mapper) : mapper.createObjectNode();
    }

    /**
     * A configuration record as a tree, section by section. A {@link ComputedDefault} key is left out when it holds
     * the value its record would compute, so that binding the tree again computes it afresh from the other keys.
     */
    static ObjectNode of(Record config, ObjectMapper mapper) {
        ObjectNode node = mapper.createObjectNode();
        for (RecordComponent component : config.getClass().getRecordComponents()) {
            Object value = invoke(component.getAccessor(), config);
            if (component.isAnnotationPresent(ComputedDefault.class) && value != null
                    && value.equals(computedDefault(config, component))) {
                continue;
            }
            node.set(component.getName(), isSection(component.getType()) && value != null
                    ? of((Record) value, mapper) : mapper.valueToTree(value));
        }
        return node;
    }

    /** Whether values of {@code type} are a section of keys (a mapping in YAML) rather than one value. */
    static boolean isSection(Class<?> type) {
        return type.isRecord() && !ConfigModule.isScalarRecord(type);
    }

    /**
     * {@code written} laid over {@code base}: the keys in {@code written}'s order, a section merged key by key, any
     * other value replacing the base's; a key without a value keeps the base's (the loader refuses it later, with
     * its line). Keys only {@code base} has follow.
     */
    static ObjectNode overlay(ObjectNode base, ObjectNode written) {
        ObjectNode merged = base.objectNode();
        for (Map.Entry<String, JsonNode> key : written.properties()) {
            JsonNode under = base.get(key.getKey());
            JsonNode over = key.getValue();
            if (over.isNull()) {
                if (under != null) {
                    merged.set(key.getKey(), under);
                }
            } else if (over.isObject() && under != null && under.isObject()) {
                merged.set(key.getKey(), overlay((ObjectNode) under, (ObjectNode) over));
            } else {
                merged.set(key.getKey(), over);
            }
        }
        for (Map.Entry<String, JsonNode> key : base.properties()) {
            if (!merged.has(key.getKey())) {
                merged.set(key.getKey(), key.getValue());
            }
        }
        return merged;
    }

    /**
     * Resolves, in place, every {@link RelativeToConfigFile} key of {@code tree} (bound to {@code type}) against the
     * file's {@code directory}; values that are not a usable path ({@code none}, blank, malformed) are left for the
     * key's own checks.
     *
     * @param onResolved told the key path of each value changed
     */
    static void resolvePaths(ObjectNode tree, Class<?> type, Path directory, Consumer<String> onResolved) {
        resolvePaths(tree, type, directory, onResolved, "");
    }

    private static void resolvePaths(ObjectNode tree, Class<?> type, Path directory, Consumer<String> onResolved,
                                     String prefix) {
        for (RecordComponent component : type.getRecordComponents()) {
            JsonNode value = tree.get(component.getName());
            String keyPath = prefix + component.getName();
            if (value == null) {
                continue;
            }
            if (value.isObject() && isSection(component.getType())) {
                resolvePaths((ObjectNode) value, component.getType(), directory, onResolved, keyPath + ".");
            } else if (value.isValueNode() && component.isAnnotationPresent(RelativeToConfigFile.class)) {
                String text = value.asText();
                String resolved = component.getType() == Path.class ? resolvePath(directory, text)
                        : OptionalPath.resolve(directory, text);
                if (!resolved.equals(text)) {
                    tree.set(component.getName(), TextNode.valueOf(resolved));
                    onResolved.accept(keyPath);
                }
            }
        }
    }

    private static String resolvePath(Path directory, String path) {
        if (path.isBlank()) {
            return path;
        }
        try {
            return directory.resolve(path).normalize().toString();
        } catch (InvalidPathException e) {
            return path;
        }
    }

    /**
     * The Java type the key at {@code keyPath} ({@code failover.donorTimeout}) binds to in {@code type}, or null
     * when {@code type} has no such key.
     */
    static Class<?> typeAt(Class<?> type, String keyPath) {
        Class<?> current = type;
        for (String key : keyPath.split("\\.", -1)) {
            if (!isSection(current)) {
                return null;
            }
            Class<?> owner = current;
            current = null;
            for (RecordComponent component : owner.getRecordComponents()) {
                if (component.getName().equals(key)) {
                    current = component.getType();
                }
            }
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /**
     * Sets the key at {@code keyPath} to {@code value}, creating the sections on the way. When the file wrote a
     * value where a section on the way belongs, that value is kept and the key is not set: binding reports the
     * file's mistake.
     */
    static void set(ObjectNode tree, String keyPath, JsonNode value) {
        String[] keys = keyPath.split("\\.", -1);
        ObjectNode section = tree;
        for (int i = 0; i < keys.length - 1; i++) {
            JsonNode next = section.get(keys[i]);
            if (next == null) {
                next = section.putObject(keys[i]);
            }
            if (!next.isObject()) {
                return;
            }
            section = (ObjectNode) next;
        }
        section.set(keys[keys.length - 1], value);
    }

    /** The value {@code config}'s record computes for {@code component} when given null, the others as they are. */
    private static Object computedDefault(Record config, RecordComponent component) {
        RecordComponent[] components = config.getClass().getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            boolean computed = components[i].getName().equals(component.getName());
            values[i] = computed ? null : invoke(components[i].getAccessor(), config);
        }
        try {
            Object computed = config.getClass().getDeclaredConstructor(types).newInstance(values);
            return invoke(component.getAccessor(), computed);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot compute the default of " + component, e);
        }
    }

    private static Object invoke(Method method, Object target) {
        try {
            method.setAccessible(true);
            return method.invoke(target);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(method + " failed", e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call " + method, e);
        }
    }
}
