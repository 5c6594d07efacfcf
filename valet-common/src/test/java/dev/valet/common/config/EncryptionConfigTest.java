package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code encryption:} section of valet.yaml, read through the loader. */
class EncryptionConfigTest {
    @TempDir
    Path dir;

    private ClientConfig load(String yaml) throws IOException {
        Path file = dir.resolve("valet.yaml");
        Files.writeString(file, yaml);
        return ConfigLoader.load(file, ClientConfig.class);
    }

    private Path keyFile(String name, int bytes, String mode) throws IOException {
        Path key = dir.resolve(name);
        Files.write(key, new byte[bytes]);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString(mode));
        return key;
    }

    @Test
    void offByDefault() throws IOException {
        assertThat(EncryptionConfig.DEFAULTS.enabled()).isFalse();
        assertThat(load("transport: tcp\n").encryption()).isEqualTo(EncryptionConfig.DEFAULTS);
    }

    @Test
    void readsTheModeAndAKeyFileRelativeToTheYaml() throws IOException {
        Path key = keyFile("page.key", 32, "rw-------");
        EncryptionConfig e = load("encryption:\n  mode: AES-256-GCM\n  keyFile: page.key\n").encryption();
        assertThat(e.mode()).isEqualTo(EncryptionMode.AES_256_GCM);
        assertThat(e.enabled()).isTrue();
        assertThat(e.keyPath()).contains(key);
    }

    @Test
    void refusesAKeyFileOthersMayReadNamingThePathAndTheFix() throws IOException {
        Path key = keyFile("loose.key", 32, "rw-r--r--");
        assertThatThrownBy(() -> load("encryption:\n  mode: aes-256-gcm\n  keyFile: loose.key\n"))
                .hasMessageContaining("encryption.keyFile").hasMessageContaining(key.toString())
                .hasMessageContaining("rw-r--r--").hasMessageContaining("chmod 600");
    }

    @Test
    void refusesAShortOrMissingKeyFile() throws IOException {
        keyFile("short.key", 31, "rw-------");
        assertThatThrownBy(() -> load("encryption:\n  mode: aes-256-gcm\n  keyFile: short.key\n"))
                .hasMessageContaining("encryption.keyFile").hasMessageContaining("has 31 bytes")
                .hasMessageContaining("32 to 4096");
        assertThatThrownBy(() -> load("encryption:\n  mode: aes-256-gcm\n  keyFile: nope.key\n"))
                .hasMessageContaining("encryption.keyFile").hasMessageContaining("no such key file");
    }

    @Test
    void withoutAKeyFileTheClusterSecretIsNeeded() {
        assertThatThrownBy(() -> load("encryption:\n  mode: aes-256-gcm\n"))
                .hasMessageContaining("encryption.keyFile").hasMessageContaining("auth.secretFile");
    }

    @Test
    void refusesAnUnknownModeListingTheChoices() {
        assertThatThrownBy(() -> load("encryption:\n  mode: aes-128-cbc\n"))
                .hasMessageContaining("encryption.mode").hasMessageContaining("off, aes-256-gcm");
    }

    @Test
    void takesABackupDiskWithEncryption() throws IOException {
        keyFile("page.key", 32, "rw-------");
        ClientConfig config = load("backupDisk: backup.img\nencryption:\n  mode: aes-256-gcm\n  keyFile: page.key\n");
        assertThat(config.encryption().enabled()).isTrue();
        assertThat(config.backupDiskPath()).isPresent();
    }
}
