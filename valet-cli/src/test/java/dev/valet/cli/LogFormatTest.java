package dev.valet.cli;

import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Log lines as a daemon writes them (ValetLogConfigurator of valet-common): a donor process's log. */
class LogFormatTest {
    @TempDir
    Path dir;

    @Test
    void everyLogLineStartsWithDateAndTime() throws Exception {
        List<String> lines;
        try (DonorProcess donor = DonorProcess.start(dir, "log", "memory: 16M\nlockMemory: false\n")) {
            assertThat(donor.isAlive()).isTrue();
        }
        lines = Files.readAllLines(dir.resolve("donor-log.log")).stream()
                .filter(l -> l.contains(" INFO ") || l.contains(" WARN ")).toList();
        assertThat(lines).isNotEmpty();
        assertThat(lines).allSatisfy(l -> assertThat(l)
                .matches("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} (INFO |WARN ) \\[.*"));
    }
}
