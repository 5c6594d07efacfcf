package dev.valet.cli;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Progress bars and scratch folders for the long-running commands. */
final class Progress {
    private Progress() {
    }

    /**
     * A bar of {@code total} pages: redrawn in place on a terminal, a line every five seconds otherwise (CI, pipes),
     * nothing with {@code quiet}.
     */
    static ProgressBar bar(String task, long total, boolean quiet) {
        return bar(task, total, quiet, " pages");
    }

    /** A bar of {@code total} things named by {@code unit} (with its leading space), drawn the same way. */
    static ProgressBar bar(String task, long total, boolean quiet, String unit) {
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setUnit(unit, 1)
                .setInitialMax(total).setStyle(ProgressBarStyle.ASCII).showSpeed();
        if (quiet) {
            b.setConsumer(new DelegatingProgressBarConsumer(line -> { }));
        } else if (System.console() == null) {
            b.setConsumer(new DelegatingProgressBarConsumer(System.err::println)).setUpdateIntervalMillis(5000);
        }
        return b.build();
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
