package dev.valet.packaging;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The .deb that {@code mvn package} built, read with dpkg-deb as apt would see it: its layout, conffiles, control
 * fields and maintainer scripts, and its systemd units checked by {@code systemd-analyze verify}. Runs after
 * package (this module binds the tests to integration-test). Nothing is installed on this machine.
 */
class DebianPackageTest {
    private static final Path DEB = Path.of(System.getProperty("valet.deb", "target/valet.deb"));
    private static final String DKMS = "/usr/src/valet-" + System.getProperty("valet.dkms.version", "?") + "/";

    @TempDir
    static Path dir;

    private static Path root;
    private static Path control;

    @BeforeAll
    static void unpack() throws Exception {
        assertThat(DEB).as("the package mvn package builds").isRegularFile();
        root = Files.createDirectories(dir.resolve("root"));
        control = dir.resolve("DEBIAN");
        run("dpkg-deb", "-x", DEB.toString(), root.toString());
        run("dpkg-deb", "-e", DEB.toString(), control.toString());
    }

    @Test
    void holdsTheLauncherTheJarTheConfigurationTheUnitsAndTheModuleSource() throws Exception {
        String contents = run("dpkg-deb", "--contents", DEB.toString());
        List<String> files = new ArrayList<>();
        for (String line : contents.split("\n")) {
            files.add(line.substring(line.indexOf("./") + 1));
        }
        assertThat(files).contains("/usr/bin/valet", "/usr/share/valet/valet.jar", "/usr/share/valet/bin/valet",
                "/usr/lib/valet/valet-client-ready", "/etc/valet/valet.yaml", "/etc/valet/donor.yaml",
                "/etc/valet/portal.list", "/lib/systemd/system/valet-donor.service",
                "/lib/systemd/system/valet-client.service", "/lib/systemd/system/dev-valet0.swap",
                DKMS + "dkms.conf", DKMS + "Makefile", DKMS + "Kbuild", DKMS + "conftest.sh", DKMS + "valet.c",
                DKMS + "valet_uapi.h", DKMS + "conftest/Kbuild", DKMS + "conftest/open_gendisk.c",
                "/usr/share/doc/valet/operations.md");
        // Sources only: no object left from a developer's build.
        assertThat(files).noneMatch(f -> f.endsWith(".o") || f.endsWith(".ko") || f.contains("/build/"));
        assertThat(contents).contains("-rwxr-xr-x root/root", "./usr/bin/valet");
        assertThat(Files.isExecutable(root.resolve("usr/bin/valet"))).isTrue();
        assertThat(Files.isExecutable(root.resolve("usr/lib/valet/valet-client-ready"))).isTrue();
        assertThat(Files.isExecutable(root.resolve(DKMS.substring(1) + "conftest.sh"))).isTrue();
    }

    @Test
    void theJarCarriesTheRdmaShim() throws Exception {
        try (JarFile jar = new JarFile(root.resolve("usr/share/valet/valet.jar").toFile())) {
            assertThat(jar.getEntry("native/linux-x86_64/libvalet_verbs.so")).isNotNull();
            assertThat(jar.getEntry("dev/valet/cli/ValetCommand.class")).isNotNull();
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo("dev.valet.cli.ValetCommand");
        }
    }

    @Test
    void theInstalledLauncherRunsThePackagedJarWithoutBuilding() throws Exception {
        // /usr/bin/valet is bin/valet on /usr/share/valet/valet.jar; here the jar is in the unpacked tree.
        String wrapper = Files.readString(root.resolve("usr/bin/valet"));
        assertThat(wrapper).contains("VALET_JAR=/usr/share/valet/valet.jar", "VALET_NO_BUILD=1",
                "exec /usr/share/valet/bin/valet");
        ProcessBuilder launcher = new ProcessBuilder(root.resolve("usr/share/valet/bin/valet").toString(), "--version")
                .redirectErrorStream(true);
        launcher.environment().put("VALET_JAR", root.resolve("usr/share/valet/valet.jar").toString());
        launcher.environment().put("VALET_NO_BUILD", "1");
        Process p = launcher.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("valet ").contains("wire protocol v1").doesNotContain("building");
    }

    /**
     * valet-client.service's readiness step on a stand-in device (a file: blkid and mkswap take one): it waits for
     * the ready file, writes a swap signature on a device without one, leaves a device that has one alone, and
     * gives up when the client (MAINPID) is gone first.
     */
    @Test
    void clientReadinessStepWaitsThenMakesSwapOnlyOnANewDevice() throws Exception {
        assumeTrue(onPath("mkswap") && onPath("blkid"), "mkswap or blkid (util-linux) is not installed");
        Path ready = dir.resolve("client.ready");
        Path device = dir.resolve("valet0.img");
        Files.write(device, new byte[1 << 20]);
        String step = root.resolve("usr/lib/valet/valet-client-ready").toString();

        ProcessBuilder byHand = new ProcessBuilder(step, ready.toString()).redirectErrorStream(true);
        byHand.environment().remove("MAINPID"); // run by hand: no client to watch, it just waits
        Process waiting = byHand.start();
        assertThat(waiting.waitFor(1, TimeUnit.SECONDS)).as("waits while there is no ready file").isFalse();
        Path tmp = dir.resolve("client.ready.tmp");
        Files.writeString(tmp, device + "\n");
        Files.move(tmp, ready); // as the client writes it: atomically
        String out = new String(waiting.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(waiting.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(waiting.exitValue()).as(out).isZero();
        assertThat(out).contains(device + " is ready", "is new: mkswap");
        assertThat(run("blkid", "-p", "-o", "value", "-s", "TYPE", device.toString()).trim()).isEqualTo("swap");

        assertThat(run(step, ready.toString())).contains("is ready").doesNotContain("mkswap");

        Files.delete(ready);
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        ProcessBuilder orphan = new ProcessBuilder(step, ready.toString()).redirectErrorStream(true);
        orphan.environment().put("MAINPID", Long.toString(gone.pid()));
        Process p = orphan.start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(said).contains("exited before its device was ready");
    }

    @Test
    void configurationFilesAreConffiles() throws Exception {
        assertThat(Files.readAllLines(control.resolve("conffiles")))
                .containsExactlyInAnyOrder("/etc/valet/valet.yaml", "/etc/valet/donor.yaml", "/etc/valet/portal.list");
    }

    @Test
    void dependsOnAJavaRuntimeNotAJdkNorMaven() throws Exception {
        String depends = run("dpkg-deb", "-f", DEB.toString(), "Depends");
        assertThat(depends).contains("java17-runtime-headless").contains("adduser");
        assertThat(depends).doesNotContain("jdk").doesNotContain("maven").doesNotContain("gcc");
        assertThat(run("dpkg-deb", "-f", DEB.toString(), "Package", "Architecture"))
                .contains("Package: valet").contains("Architecture: amd64");
        assertThat(DEB.getFileName().toString()).matches("valet_.+_amd64\\.deb");
    }

    @Test
    void dkmsConfHasTheVersionOfItsFolder() throws Exception {
        String conf = Files.readString(root.resolve(DKMS.substring(1) + "dkms.conf"));
        String version = DKMS.substring("/usr/src/valet-".length(), DKMS.length() - 1);
        assertThat(conf).contains("PACKAGE_NAME=\"valet\"").contains("PACKAGE_VERSION=\"" + version + "\"")
                .contains("BUILT_MODULE_NAME[0]=\"valet\"").contains("AUTOINSTALL=\"yes\"")
                .contains("MAKE[0]=\"make KVER=${kernelver} modules\"").doesNotContain("@dkms.version@");
    }

    @Test
    void maintainerScriptsAddTheUserReloadSystemdAndUseDkmsWhenPresent() throws Exception {
        String postinst = Files.readString(control.resolve("postinst"));
        assertThat(postinst).contains("adduser --system --group").contains(" valet")
                .contains("systemctl daemon-reload").contains("command -v dkms").contains("dkms install -m valet")
                .doesNotContain("[[");
        assertThat(Files.readString(control.resolve("prerm"))).contains("/proc/swaps").contains("dkms remove");
        assertThat(Files.readString(control.resolve("postrm"))).contains("systemctl daemon-reload");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertThat(Files.isExecutable(control.resolve(script))).as(script).isTrue();
            run("sh", "-n", control.resolve(script).toString());
        }
    }

    @Test
    void unitsRunTheDonorUnprivilegedAndTheClientBeforeSwap() throws Exception {
        String donor = unit("valet-donor.service");
        assertThat(donor).contains("User=valet", "LimitMEMLOCK=infinity", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "ExecStart=/usr/bin/valet donor --config /etc/valet/donor.yaml");
        String client = unit("valet-client.service");
        assertThat(client).contains("Before=dev-valet0.swap", "Restart=on-failure", "--ready-file",
                "ExecStartPost=/usr/lib/valet/valet-client-ready", "LimitMEMLOCK=infinity");
        assertThat(client).doesNotContain("User=");
        String swap = unit("dev-valet0.swap");
        assertThat(swap).contains("What=/dev/valet0", "After=valet-client.service", "Wants=valet-client.service")
                .doesNotContain("Requires=valet-client");
    }

    /**
     * {@code systemd-analyze verify} on the units as installed, except that the commands they run point into the
     * unpacked package (it checks that each exists and is executable, and they are not installed here).
     */
    @Test
    void systemdAnalyzeVerifyIsClean() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed on this machine");
        Path units = Files.createDirectories(dir.resolve("units"));
        List<String> cmd = new ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        try (Stream<Path> all = Files.list(root.resolve("lib/systemd/system"))) {
            for (Path unit : all.toList()) {
                String text = Files.readString(unit).replace("/usr/bin/valet", root + "/usr/bin/valet")
                        .replace("/usr/lib/valet/", root + "/usr/lib/valet/");
                Path copy = units.resolve(unit.getFileName());
                Files.writeString(copy, text);
                cmd.add(copy.toString());
            }
        }
        assertThat(cmd).hasSize(3 + 3);
        assertThat(run(cmd.toArray(String[]::new))).isEmpty();
    }

    private static String unit(String name) throws IOException {
        return Files.readString(root.resolve("lib/systemd/system").resolve(name));
    }

    private static boolean onPath(String command) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, command)));
    }

    /** Runs a command; its output (stdout and stderr), failing the test unless it exits 0. */
    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
        return out;
    }
}
