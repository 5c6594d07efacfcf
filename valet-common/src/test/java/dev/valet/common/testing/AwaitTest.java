package dev.valet.common.testing;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AwaitTest {
    @Test
    void returnsOnceTheConditionHolds() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        Await.until("three polls", Duration.ofSeconds(10), () -> polls.incrementAndGet() >= 3);
        assertThat(polls).hasValue(3);
        assertThat(Await.value(() -> "a value", Duration.ofSeconds(10),
                () -> polls.incrementAndGet() >= 5 ? "five" : null)).isEqualTo("five");
    }

    @Test
    void aTimeoutNamesWhatWasAwaitedAndForHowLong() {
        assertThatThrownBy(() -> Await.until("the impossible", Duration.ofMillis(30), () -> false))
                .isInstanceOf(AssertionError.class).hasMessage("timed out after 30 ms waiting for: the impossible");
        assertThatThrownBy(() -> Await.value(() -> "state " + 7, Duration.ofMillis(10), () -> null))
                .isInstanceOf(AssertionError.class).hasMessage("timed out after 10 ms waiting for: state 7");
    }

    @Test
    void holdsWithinAnswersWithoutFailingAndChecksOnceMoreAtTheDeadline() throws InterruptedException {
        assertThat(Await.holdsWithin(Duration.ofMillis(20), () -> false)).isFalse();
        long deadline = System.nanoTime() + Duration.ofMillis(40).toNanos();
        assertThat(Await.holdsWithin(Duration.ofMillis(40), () -> System.nanoTime() - deadline >= 0)).isTrue();
    }
}
