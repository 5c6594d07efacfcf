package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.portal.PortalList;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The sample files at the repository root are what operators copy; they must load and match the defaults. */
class SampleConfigFilesTest {

    /** Tests run in the module directory; the samples are one level up. */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void sampleDonorYamlIsTheDefaults() {
        assertThat(ConfigLoader.load(ROOT.resolve("donor.yaml"), DonorConfig.class))
                .isEqualTo(DonorConfig.defaults());
    }

    @Test
    void sampleValetYamlIsTheDefaultsWithThePortalListBesideIt() {
        ClientConfig config = ConfigLoader.load(ROOT.resolve("valet.yaml"), ClientConfig.class);

        assertThat(config).isEqualTo(ClientConfig.defaults().withPortalList(ROOT.resolve("portal.list")));
    }

    @Test
    void samplePortalListNamesThreeLoopbackDonors() {
        ClientConfig config = ConfigLoader.load(ROOT.resolve("valet.yaml"), ClientConfig.class);

        assertThat(PortalList.parse(config.portalList())).containsExactly(
                DonorAddress.parse("127.0.0.1:7070"),
                DonorAddress.parse("127.0.0.1:7071"),
                DonorAddress.parse("127.0.0.1:7072"));
    }

    @Test
    void samplesAndDocumentationMentionEveryKey() throws IOException {
        String donorYaml = Files.readString(ROOT.resolve("donor.yaml"));
        String valetYaml = Files.readString(ROOT.resolve("valet.yaml"));
        String docs = Files.readString(ROOT.resolve("docs/configuration.md"));

        for (RecordComponent key : DonorConfig.class.getRecordComponents()) {
            assertThat(donorYaml).as("donor.yaml").contains(key.getName() + ":");
            assertThat(docs).as("docs/configuration.md").contains("`" + key.getName() + "`");
        }
        for (RecordComponent key : ClientConfig.class.getRecordComponents()) {
            assertThat(valetYaml).as("valet.yaml").contains(key.getName() + ":");
            assertThat(docs).as("docs/configuration.md").contains("`" + key.getName() + "`");
        }
    }
}
