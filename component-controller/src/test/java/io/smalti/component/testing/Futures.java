package io.smalti.component.testing;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Waiting for the module's asynchronous calls in tests. */
public final class Futures {
    private Futures() {}

    /** The stage's value, within 10 s. */
    public static <T> T get(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + unwrap(e), unwrap(e));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The exception the stage fails with (of the given class), within 10 s. */
    public static <X extends Throwable> X failure(Class<X> type, CompletionStage<?> stage) {
        Object value;
        try {
            value = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return assertInstanceOf(type, unwrap(e), () -> "failed with " + unwrap(e));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return fail("expected a " + type.getSimpleName() + ", completed with " + value);
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
