package dev.valet.cli;

import dev.valet.common.net.NettyTransport;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;

/** {@code valet}: the one launcher; every part of Valet is a subcommand. */
@Command(name = "valet", mixinStandardHelpOptions = true, versionProvider = ValetCommand.Version.class,
        description = {
            "Valet: swap to the idle RAM of other machines.",
            "Run 'valet <command> --help' for the options of each command."})
public final class ValetCommand implements Runnable {
    /**
     * Every subcommand, in the order {@code --help} lists them. A command line names one: only that one is built
     * ({@link #commandLine}), because building a command's model reflects over its options and creates its objects
     * (the others' static state too, such as {@code status}'s JSON mapper), which a starting daemon does not need.
     */
    private static final List<Class<?>> SUBCOMMANDS = List.of(DonorCommand.class, DemoCommand.class,
            CheckCommand.class, StatusCommand.class, SimulatePlacementCommand.class, BenchCommand.class,
            ClientCommand.class, MemoryBenchCommand.class, DashboardCommand.class, CommandLine.HelpCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        NettyTransport.daemonBufferSettings();
        System.exit(commandLine(args).execute(args));
    }

    /**
     * {@code valet} ready to execute {@code args}: with only the subcommand {@code args[0]} names, or with all of them
     * (no subcommand, {@code help}, a mistyped one: the suggestions need every name), errors reported as
     * {@link ErrorReporter} does.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new ValetCommand());
        String first = args.length > 0 ? args[0] : "";
        List<Class<?>> chosen = SUBCOMMANDS.stream().filter(c -> nameOf(c).equals(first) && !first.equals("help"))
                .toList();
        (chosen.isEmpty() ? SUBCOMMANDS : chosen).forEach(cli::addSubcommand);
        cli.setHelpFactory(new ConfigFlags.Help()); // after addSubcommand: picocli sets it on those present
        cli.setExecutionExceptionHandler(new ErrorReporter());
        cli.setParameterExceptionHandler(new ErrorReporter());
        return cli;
    }

    private static String nameOf(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ValetCommand.class.getPackage().getImplementationVersion();
            return new String[] {"valet " + (v != null ? v : "(development build)"), "wire protocol v1"};
        }
    }
}
