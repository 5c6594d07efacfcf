package dev.valet.common.config;

/**
 * A configuration value that breaks a rule, found by {@link ValidatedConfig#validate()}. It names the key but
 * not the file; {@link ConfigLoader} adds the file, line and column when the value came from YAML, or the flag
 * when it came from a {@link ConfigOverride}. The message reads {@code <key.path>: <problem>}.
 */
public final class ConfigProblem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String keyPath;
    private final String problem;

    /**
     * @param keyPath dotted path of the key whose value is wrong, as written in YAML ({@code ewmaWeight})
     * @param problem the rule broken, naming the allowed range and the value found
     */
    public ConfigProblem(String keyPath, String problem) {
        super(keyPath + ": " + problem);
        this.keyPath = keyPath;
        this.problem = problem;
    }

    public String keyPath() {
        return keyPath;
    }

    /** The problem alone, without the key. */
    public String problem() {
        return problem;
    }
}
