package dev.valet.common.config;

/**
 * A configuration file that cannot be used, with the place to fix it. The message reads
 * {@code <file>:<line>:<column>: <key.path>: <problem>}; the line and column are left out when the problem has
 * no place in the file (the file is missing, or a value that was not written in it breaks a rule), and the key
 * path when the problem is not about one key (a YAML syntax error).
 *
 * <p>Unchecked: a daemon cannot run on a bad configuration, so the only useful handling is to print the message
 * and exit.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;
    private final String keyPath;
    private final String problem;

    /**
     * @param source  the file name as the operator gave it
     * @param line    1-based line, or 0 if unknown
     * @param column  1-based column, or 0 if unknown
     * @param keyPath dotted path of the key at fault ({@code memory}, {@code a.b[2].c}), or empty
     * @param problem what is wrong and what was expected
     * @param cause   the underlying exception, or null
     */
    public ConfigException(String source, int line, int column, String keyPath, String problem, Throwable cause) {
        super(message(source, line, column, keyPath, problem), cause);
        this.source = source;
        this.line = Math.max(line, 0);
        this.column = line > 0 ? Math.max(column, 0) : 0;
        this.keyPath = keyPath == null ? "" : keyPath;
        this.problem = problem;
    }

    private static String message(String source, int line, int column, String keyPath, String problem) {
        StringBuilder message = new StringBuilder(source);
        if (line > 0) {
            message.append(':').append(line);
            if (column > 0) {
                message.append(':').append(column);
            }
        }
        message.append(": ");
        if (keyPath != null && !keyPath.isEmpty()) {
            message.append(keyPath).append(": ");
        }
        return message.append(problem).toString();
    }

    /** The file name as the operator gave it. */
    public String source() {
        return source;
    }

    /** 1-based line of the problem, or 0 if it has no place in the file. */
    public int line() {
        return line;
    }

    /** 1-based column of the problem, or 0 if unknown. */
    public int column() {
        return column;
    }

    /** Dotted path of the key at fault, or empty when the problem is not about one key. */
    public String keyPath() {
        return keyPath;
    }

    /** The problem alone, without file, place and key. */
    public String problem() {
        return problem;
    }
}
