package io.smalti.harness;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The harness process's logging: one line per event on standard error, tagged with the component's short id.
 * Built in code rather than from an XML file because Joran and the JDK's XML parser were a sixth of the
 * harness's start-up (~100 ms and ~600 classes). Logback runs it once, when the first logger is made.
 *
 * <p>It only acts in a harness process ({@link HarnessMain} sets {@value #SHORT_ID_PROPERTY} first) and only
 * when no {@code logback.configurationFile} is given; anywhere else (the node agent, which has this jar on
 * its class path too, and tests) it defers to logback's usual configuration.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class HarnessLogConfigurator extends ContextAwareBase implements Configurator {
    /** System property holding the component's short id; its presence marks a harness process. */
    public static final String SHORT_ID_PROPERTY = "smalti.component.short";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        String shortId = System.getProperty(SHORT_ID_PROPERTY);
        if (shortId == null || System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        // The id is put in literally: the pattern parser then has no property to look up.
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level harness " + shortId.replace("%", "") + " %msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
        context.getLogger("io.netty").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
