package dev.valet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Where a command's YAML comes from without --config: ./, then /etc/valet/ (here: stand-in folders), else none. */
class ConfigSearchTest {
    @TempDir
    Path dir;

    @Test
    void givenFileWinsThenTheFirstFolderThatHasOne() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Path etc = Files.createDirectories(dir.resolve("etc"));
        ConfigSearch search = new ConfigSearch(List.of(work, etc));

        assertThat(search.find(null, "valet.yaml")).isEmpty();
        Files.writeString(etc.resolve("valet.yaml"), "");
        assertThat(search.find(null, "valet.yaml")).contains(etc.resolve("valet.yaml"));
        Files.writeString(work.resolve("valet.yaml"), "");
        assertThat(search.find(null, "valet.yaml")).contains(work.resolve("valet.yaml"));
        assertThat(search.find(null, "donor.yaml")).isEmpty();
        Path given = dir.resolve("elsewhere.yaml");
        assertThat(search.find(given, "valet.yaml")).contains(given);
    }

    @Test
    void aFolderNamedLikeTheFileIsNotTheFile() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(work.resolve("donor.yaml"));
        assertThat(new ConfigSearch(List.of(work)).find(null, "donor.yaml")).isEmpty();
    }

    @Test
    void theSearchStartsInTheWorkingDirectory() throws Exception {
        // A valet process started in a folder whose valet.yaml has a mistake: the error names that file.
        Files.writeString(dir.resolve("valet.yaml"), "identity: here\nmaxPagesPerFrame: lots\n");
        Path err = dir.resolve("status.err");
        Process status = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ValetCommand.class.getName(), "status")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(err.toFile()).start();
        assertThat(status.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(status.exitValue()).isEqualTo(2);
        assertThat(Files.readString(err)).contains("valet.yaml:2:").contains("maxPagesPerFrame");
    }
}
