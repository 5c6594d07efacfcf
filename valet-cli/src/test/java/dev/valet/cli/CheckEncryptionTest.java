package dev.valet.cli;

import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code valet check} with {@code encryption.mode: aes-256-gcm} against real donor processes: a run that keeps its
 * pages, a verify-only run that reads them back without writing, and one with another key that fails naming
 * authentication.
 */
class CheckEncryptionTest {
    @TempDir
    Path dir;

    private Path config(String name, long keySeed, Path portal) throws IOException {
        byte[] key = new byte[32];
        new Random(keySeed).nextBytes(key);
        Path keyFile = dir.resolve(name + ".key");
        Files.write(keyFile, key);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        return Files.writeString(dir.resolve(name + ".yaml"), """
                identity: check-crypt
                portalList: %s
                encryption:
                  mode: aes-256-gcm
                  keyFile: %s
                """.formatted(portal, keyFile));
    }

    private static String[] check(Path config, String... more) {
        return check(config, 9, more);
    }

    private static String[] check(Path config, long seed, String... more) {
        String[] base = {"check", "--config", config.toString(), "--pages", "300", "--slab-size", "256K",
            "--rounds", "2", "--seed", Long.toString(seed), "--no-progress"};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    void keptPagesVerifyWithTheSameKeyAndFailAuthenticationWithAnother() throws Exception {
        try (DonorProcess a = DonorProcess.start(dir, "a", "memory: 64M\nlockMemory: false\n");
             DonorProcess b = DonorProcess.start(dir, "b", "memory: 64M\nlockMemory: false\n")) {
            Path portal = Files.writeString(dir.resolve("portal.list"), "2\n" + a.address() + "\n" + b.address()
                    + "\n");
            Path right = config("right", 1, portal);
            Path wrong = config("wrong", 2, portal);

            CliRun wrote = CliRun.of(check(right, "--keep"));
            assertThat(wrote.exit()).as(wrote.err()).isZero();
            assertThat(wrote.out()).contains("pages=300 verified=300 mismatches=0")
                    .contains("encryption=aes-256-gcm auth_failures=0");

            CliRun verified = CliRun.of(check(right, "--verify-only"));
            assertThat(verified.exit()).as(verified.err()).isZero();
            assertThat(verified.out()).contains("pages=300 verified=300 mismatches=0");

            CliRun another = CliRun.of(check(wrong, "--verify-only"));
            assertThat(another.exit()).isEqualTo(1);
            assertThat(another.out()).contains("verified=0 mismatches=300").contains("auth_failures=300");
            assertThat(another.err()).contains("300 pages failed authentication")
                    .contains("key file " + dir.resolve("wrong.key"));

            // Verify-only wrote nothing and freed nothing: the right key still reads every page.
            assertThat(CliRun.of(check(right, "--verify-only")).out()).contains("verified=300 mismatches=0");
            // Another seed is other content: caught by the comparison, not mistaken for authentication.
            CliRun otherSeed = CliRun.of(check(right, 10, "--verify-only"));
            assertThat(otherSeed.exit()).isEqualTo(1);
            assertThat(otherSeed.out()).contains("auth_failures=0").contains("mismatches=300");
        }
    }

    @Test
    void verifyOnlyRefusesDonorsItWouldStartItself() {
        CliRun r = CliRun.of("check", "--verify-only", "--spawn-donors", "1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--verify-only").contains("hold nothing");
    }
}
