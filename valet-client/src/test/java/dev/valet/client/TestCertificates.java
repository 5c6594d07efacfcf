package dev.valet.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Self-signed certificates made at test time with the JDK's keytool (no private key is ever committed): one per
 * name, valid for 127.0.0.1 unless told otherwise, written as PEM certificate and PEM PKCS#8 key.
 */
public final class TestCertificates {
    private TestCertificates() {
    }

    /** A certificate chain PEM and its private key PEM. */
    public record Identity(Path certificate, Path privateKey) {
    }

    /** A certificate for 127.0.0.1. */
    public static Identity create(Path dir, String name) throws IOException, InterruptedException {
        return create(dir, name, "ip:127.0.0.1");
    }

    /** A certificate whose subject alternative name is {@code san}, e.g. {@code ip:192.0.2.1}. */
    public static Identity create(Path dir, String name, String san) throws IOException, InterruptedException {
        return create(dir, name, san, "EC");
    }

    /**
     * A certificate for 127.0.0.1 with an RSA key, for GnuTLS (libnbd's tools), which cannot read the JDK's PKCS#8
     * encoding of an EC key.
     */
    public static Identity createRsa(Path dir, String name) throws IOException, InterruptedException {
        return create(dir, name, "ip:127.0.0.1", "RSA");
    }

    private static Identity create(Path dir, String name, String san, String keyAlgorithm)
            throws IOException, InterruptedException {
        Path store = dir.resolve(name + ".p12");
        boolean ec = keyAlgorithm.equals("EC");
        char[] pass = "changeit".toCharArray();
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", name, "-keyalg", keyAlgorithm, ec ? "-groupname" : "-keysize",
                ec ? "secp256r1" : "2048", "-dname", "CN=" + name,
                "-ext", "san=" + san, "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", new String(pass), "-keypass", new String(pass)))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool failed: " + out);
        }
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, pass);
            Key key = ks.getKey(name, pass);
            Certificate cert = ks.getCertificate(name);
            Path certPem = dir.resolve(name + ".crt.pem");
            Path keyPem = dir.resolve(name + ".key.pem");
            Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
            Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
            Files.setPosixFilePermissions(keyPem, PosixFilePermissions.fromString("rw-------"));
            return new Identity(certPem, keyPem);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
