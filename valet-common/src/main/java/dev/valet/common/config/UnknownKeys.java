package dev.valet.common.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The message for a key a configuration does not have: the likely intended key, and every valid key of its section
 * in the order the documentation lists them.
 */
final class UnknownKeys {

    private UnknownKeys() {
    }

    /**
     * {@code unknown key 'memroy' (did you mean 'memory'?); valid keys: listen, memory, ...}.
     *
     * @param owner the record the key was written in, whose components give the order of the valid keys
     */
    static String message(String key, Collection<Object> knownKeys, Class<?> owner) {
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
}
