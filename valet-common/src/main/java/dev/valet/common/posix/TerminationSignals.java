package dev.valet.common.posix;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.Consumer;

/**
 * SIGTERM and SIGINT handlers for the daemons, so that a stop request ends {@code call()} normally and the process
 * exits 0 (a shutdown hook alone leaves the JVM exiting with the signal's status).
 *
 * <p>The JDK's only way to catch a signal is {@code sun.misc.Signal} (module jdk.unsupported, exported). Compiled
 * with {@code --release 17} every reference to it is a warning that no {@code @SuppressWarnings} silences, and the
 * build runs with {@code -Werror}; so it is reached by reflection here, in the one place that needs it.
 */
public final class TerminationSignals {
    private static final String[] NAMES = {"TERM", "INT"};

    private TerminationSignals() {
    }

    /**
     * Runs {@code handler} with the signal's name ("TERM" or "INT") on the JVM's signal thread each time either
     * arrives, instead of the JVM's default of exiting.
     *
     * @throws IllegalStateException if this JVM has no {@code sun.misc.Signal} (never on OpenJDK 17)
     */
    public static void onTermination(Consumer<String> handler) {
        try {
            Class<?> signalType = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Method getName = signalType.getMethod("getName");
            Method handle = signalType.getMethod("handle", signalType, handlerType);
            Object proxy = Proxy.newProxyInstance(handlerType.getClassLoader(), new Class<?>[] {handlerType},
                    (self, method, args) -> {
                        if (method.getDeclaringClass() == Object.class) {
                            return objectMethod(self, method, args);
                        }
                        handler.accept((String) getName.invoke(args[0]));
                        return null;
                    });
            for (String name : NAMES) {
                handle.invoke(null, signalType.getConstructor(String.class).newInstance(name), proxy);
            }
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("cannot handle SIGTERM/SIGINT: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot handle SIGTERM/SIGINT: no sun.misc.Signal in this JVM", e);
        }
    }

    /** equals, hashCode and toString of the handler proxy: identity, as for any lambda. */
    private static Object objectMethod(Object self, Method method, Object[] args) {
        return switch (method.getName()) {
            case "equals" -> self == args[0];
            case "hashCode" -> System.identityHashCode(self);
            default -> "TerminationSignals.handler@" + Integer.toHexString(System.identityHashCode(self));
        };
    }
}
