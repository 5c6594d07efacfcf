package dev.valet.cli;

import dev.valet.common.net.NettyTransport;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code valet}: the one launcher; every part of Valet is a subcommand. */
@Command(name = "valet", mixinStandardHelpOptions = true, versionProvider = ValetCommand.Version.class,
        description = {
            "Valet: swap to the idle RAM of other machines.",
            "Run 'valet <command> --help' for the options of each command."},
        subcommands = {DonorCommand.class, DemoCommand.class, CheckCommand.class, StatusCommand.class,
            SimulatePlacementCommand.class, BenchCommand.class, ClientCommand.class, MemoryBenchCommand.class,
            DashboardCommand.class,
            CommandLine.HelpCommand.class},
        modelTransformer = ConfigFlags.Help.class)
public final class ValetCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        NettyTransport.daemonBufferSettings();
        CommandLine cli = new CommandLine(new ValetCommand());
        cli.setExecutionExceptionHandler(new ErrorReporter());
        cli.setParameterExceptionHandler(new ErrorReporter());
        System.exit(cli.execute(args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ValetCommand.class.getPackage().getImplementationVersion();
            return new String[] {"valet " + (v != null ? v : "(development build)"), "wire protocol v1"};
        }
    }
}
