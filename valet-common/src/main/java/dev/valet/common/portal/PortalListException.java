package dev.valet.common.portal;

/**
 * A portal list that cannot be used, with the place to fix it: the message reads
 * {@code <file>:<line>: <problem>}, or {@code <file>: <problem>} when the whole file is at fault (it is missing
 * or unreadable).
 *
 * <p>Unchecked, as an {@link IllegalArgumentException}: a bad portal list is bad input that the daemon cannot
 * recover from, so callers print the message and stop rather than handle it case by case.
 */
public final class PortalListException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final String problem;

    /**
     * @param source  the file name as the operator gave it
     * @param line    1-based line number, or 0 when the problem is not on a particular line
     * @param problem what is wrong and what was expected
     */
    public PortalListException(String source, int line, String problem) {
        this(source, line, problem, null);
    }

    public PortalListException(String source, int line, String problem, Throwable cause) {
        super(line > 0 ? source + ":" + line + ": " + problem : source + ": " + problem, cause);
        this.source = source;
        this.line = line;
        this.problem = problem;
    }

    /** The file name as the operator gave it. */
    public String source() {
        return source;
    }

    /** 1-based line number of the problem, or 0 when it concerns the whole file. */
    public int line() {
        return line;
    }

    /** The problem alone, without the file and line. */
    public String problem() {
        return problem;
    }
}
