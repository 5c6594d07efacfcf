package dev.valet.cli;

import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Command-line flags that set YAML keys ({@link ConfigKey}): their values as {@link ConfigOverride}s laid over the
 * file, and their help naming the key and its default, both taken from the one declaration of the flag.
 */
final class ConfigFlags {

    private ConfigFlags() {
    }

    /**
     * The file (or, without one, the built-in defaults) with the flags laid over it, bound and checked: a bad flag
     * value is refused as the same key in the file would be, naming the flag ({@code --memory: memory: ...}).
     */
    static <T> T load(Path file, Class<T> type, List<ConfigOverride> flags) {
        return file != null ? ConfigLoader.load(file, type, flags)
                : ConfigLoader.parse("built-in defaults", "", type, flags);
    }

    /** The {@link ConfigKey} flags of {@code optionGroups} (command or mixin objects) that have a value. */
    static List<ConfigOverride> given(Object... optionGroups) {
        List<ConfigOverride> overrides = new ArrayList<>();
        for (Object group : optionGroups) {
            for (Field field : group.getClass().getDeclaredFields()) {
                ConfigKey key = field.getAnnotation(ConfigKey.class);
                Option option = field.getAnnotation(Option.class);
                if (key == null || option == null) {
                    continue;
                }
                Object value = read(field, group);
                if (value != null) {
                    overrides.add(new ConfigOverride(key.value(), value, longestName(option.names())));
                }
            }
        }
        return overrides;
    }

    private static Object read(Field field, Object group) {
        try {
            field.setAccessible(true);
            return field.get(group);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read " + field, e);
        }
    }

    private static String longestName(String[] names) {
        return Arrays.stream(names).max(Comparator.comparingInt(String::length)).orElseThrow();
    }

    /**
     * Ends the description of every {@link ConfigKey} option of a command with "YAML key: memory (default 1G).";
     * the default is the configuration's own unless the option has one. Done when the command's help is rendered,
     * not when the launcher starts: working out the defaults builds the configuration's whole default tree, which a
     * starting daemon need not pay for. A key the configuration does not have fails the help at once (and
     * ConfigFlagsTest, for every command), so a misspelt key cannot ship.
     */
    static final class Help implements CommandLine.IHelpFactory {
        /** The commands whose options are described already (help may be rendered more than once). */
        private final Set<CommandSpec> described = Collections.newSetFromMap(new IdentityHashMap<>());

        @Override
        public CommandLine.Help create(CommandSpec spec, CommandLine.Help.ColorScheme colors) {
            describeKeys(spec);
            return new CommandLine.Help(spec, colors);
        }

        /** Adds the YAML key sentence to each {@link ConfigKey} option of {@code spec}, once. */
        void describeKeys(CommandSpec spec) {
            if (!described.add(spec)) {
                return;
            }
            for (OptionSpec option : new ArrayList<>(spec.options())) {
                if (option.userObject() instanceof Field field && field.isAnnotationPresent(ConfigKey.class)) {
                    spec.remove(option);
                    spec.addOption(option.toBuilder().description(describe(option, field)).build());
                }
            }
        }

        private static String[] describe(OptionSpec option, Field field) {
            String key = field.getAnnotation(ConfigKey.class).value();
            ConfigKeysOf of = field.getDeclaringClass().getAnnotation(ConfigKeysOf.class);
            if (of == null) {
                throw new IllegalStateException(field.getDeclaringClass() + " has @ConfigKey flags without"
                        + " @ConfigKeysOf");
            }
            String shown = field.getAnnotation(ConfigKey.class).defaultText();
            String defaultText = (shown.isEmpty() ? ConfigLoader.defaultText(of.value(), key) : Optional.of(shown))
                    .map(d -> " (default " + d + ")").orElse("");
            boolean ownDefault = option.defaultValue() != null || option.initialValue() != null;
            String[] lines = option.description().clone();
            lines[lines.length - 1] += " YAML key: " + key + (ownDefault ? "" : defaultText) + ".";
            return lines;
        }
    }
}
