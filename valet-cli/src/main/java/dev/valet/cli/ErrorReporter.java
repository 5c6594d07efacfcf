package dev.valet.cli;

import dev.valet.common.config.ConfigException;
import dev.valet.common.config.ConfigProblem;
import dev.valet.common.portal.PortalListException;
import picocli.CommandLine;

/**
 * Turns failures into one clear line on stderr and an exit code: 2 for bad input (flags, YAML, portal.list),
 * 1 for everything else. Stack traces only with VALET_LOG_LEVEL=DEBUG.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    static final int EXIT_FAILURE = 1;
    static final int EXIT_BAD_INPUT = 2;

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        boolean badInput = e instanceof ConfigException || e instanceof ConfigProblem
                || e instanceof PortalListException || e instanceof IllegalArgumentException;
        cmd.getErr().println(name(cmd) + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        if ("DEBUG".equalsIgnoreCase(System.getenv("VALET_LOG_LEVEL"))) {
            e.printStackTrace(cmd.getErr());
        }
        return badInput ? EXIT_BAD_INPUT : EXIT_FAILURE;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        cmd.getErr().println(name(cmd) + ": " + e.getMessage());
        // A mistyped command or flag: picocli knows the close matches ("Did you mean: valet check?").
        CommandLine.UnmatchedArgumentException.printSuggestions(e, cmd.getErr());
        cmd.getErr().println("Try '" + name(cmd) + " --help'.");
        return EXIT_BAD_INPUT;
    }

    /** {@code valet} for the launcher itself, {@code valet check} for a command: how the user would type it. */
    private static String name(CommandLine cmd) {
        return cmd.getParent() == null ? "valet" : "valet " + cmd.getCommandName();
    }
}
