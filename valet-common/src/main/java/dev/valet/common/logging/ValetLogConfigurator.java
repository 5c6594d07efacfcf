package dev.valet.common.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging of every Valet daemon and command, set up in code: one line per event on standard error, dated, level
 * from {@code -Dvalet.log.level} or {@code VALET_LOG_LEVEL} (default INFO), netty at WARN.
 *
 * <p>In code rather than in a {@code logback.xml}: reading the XML loaded ~450 more classes (the XML parser and
 * logback's configuration model) into every JVM at start, and a restarting client starts while the driver holds the
 * machine's swap I/O.
 * {@code -Dlogback.configurationFile=FILE} still wins: this configurator then steps aside. Found by logback
 * through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}.
 */
public final class ValetLogConfigurator extends ContextAwareBase implements Configurator {
    /** The layout of every line: date, time, level, thread, logger, message. */
    public static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(level());
        root.addAppender(stderr);
        context.getLogger("io.netty").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static Level level() {
        String name = System.getProperty("valet.log.level");
        if (name == null) {
            name = System.getenv("VALET_LOG_LEVEL");
        }
        return Level.toLevel(name, Level.INFO);
    }
}
