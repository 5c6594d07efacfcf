package dev.valet.common.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterSecretTest {
    @TempDir
    Path dir;

    private Path secretFile(String name, int bytes, String mode) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, new byte[bytes]);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void aPrivateFileOfAtLeast32BytesIsASecret() throws IOException {
        assertThat(ClusterSecret.load(secretFile("ok", 32, "rw-------")).file()).isEqualTo(dir.resolve("ok"));
        assertThat(ClusterSecret.problemWith(secretFile("ro", 64, "r--------"))).isNull();
    }

    @Test
    void aFileOthersMayReadOrWriteIsRefusedWithTheFix() throws IOException {
        for (String mode : new String[] {"rw-r-----", "rw--w----", "rw----r--", "rw-----w-", "rw-rw-rw-"}) {
            Path f = secretFile("loose-" + mode, 32, mode);
            assertThatThrownBy(() -> ClusterSecret.load(f)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(f + " is " + mode).hasMessageContaining("chmod 600 " + f);
        }
    }

    @Test
    void missingShortOrHugeFilesAreRefused() throws IOException {
        assertThat(ClusterSecret.problemWith(dir.resolve("absent"))).isEqualTo("no such file " + dir.resolve("absent"));
        assertThat(ClusterSecret.problemWith(secretFile("short", 31, "rw-------"))).contains("has 31 bytes")
                .contains("32 to 4096");
        assertThat(ClusterSecret.problemWith(secretFile("huge", 4097, "rw-------"))).contains("has 4097 bytes");
        assertThat(ClusterSecret.problemWith(dir)).contains("is not a regular file");
    }

    @Test
    void generateWritesAFreshPrivateSecret() throws IOException {
        ClusterSecret a = ClusterSecret.generate(dir.resolve("a"));
        ClusterSecret b = ClusterSecret.generate(dir.resolve("b"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a"))))
                .isEqualTo("rw-------");
        assertThat(Files.size(dir.resolve("a"))).isEqualTo(ClusterSecret.MIN_BYTES);
        assertThat(Files.readAllBytes(dir.resolve("a"))).isNotEqualTo(Files.readAllBytes(dir.resolve("b")));
        byte[] n1 = ClusterSecret.freshNonce();
        byte[] n2 = ClusterSecret.freshNonce();
        // The same transcript under different secrets gives different proofs; the loaded file gives the same.
        assertThat(a.donorProof("x", n1, n2)).isNotEqualTo(b.donorProof("x", n1, n2))
                .isEqualTo(ClusterSecret.load(dir.resolve("a")).donorProof("x", n1, n2));
    }

    @Test
    void proofsBindTheSideTheIdentityAndBothNonces() throws IOException {
        ClusterSecret s = ClusterSecret.load(secretFile("s", 32, "rw-------"));
        byte[] c = ClusterSecret.freshNonce();
        byte[] d = ClusterSecret.freshNonce();
        byte[] donor = s.donorProof("alpha", c, d);
        assertThat(donor).hasSize(32);
        assertThat(ClusterSecret.matches(donor, s.donorProof("alpha", c, d))).isTrue();
        // The client's proof over the same transcript differs: a donor's proof can never be reflected as one.
        assertThat(ClusterSecret.matches(donor, s.clientProof("alpha", c, d))).isFalse();
        assertThat(ClusterSecret.matches(donor, s.donorProof("alphb", c, d))).isFalse();
        assertThat(ClusterSecret.matches(donor, s.donorProof("alpha", d, c))).isFalse();
        assertThat(ClusterSecret.matches(donor, s.donorProof("alpha", c, ClusterSecret.freshNonce()))).isFalse();
        assertThat(ClusterSecret.matches(donor, new byte[31])).isFalse();
        assertThat(ClusterSecret.freshNonce()).hasSize(32).isNotEqualTo(ClusterSecret.freshNonce());
    }
}
