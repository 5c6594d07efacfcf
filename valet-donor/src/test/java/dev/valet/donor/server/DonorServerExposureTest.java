package dev.valet.donor.server;

import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.DonorConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A donor without a cluster secret does not start on an address other hosts can reach, unless told to. */
class DonorServerExposureTest {
    @Test
    void noSecretOnAWildcardAddressRefusesToStartAndSaysHowToFixIt() {
        DonorConfig config = ConfigLoader.parse("donor.yaml", "listen: 0.0.0.0:0\n", DonorConfig.class);
        assertThatThrownBy(() -> new DonorServer(config)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("refusing to listen on 0.0.0.0:0 without authentication")
                .hasMessageContaining("auth.secretFile").hasMessageContaining("--secret-file")
                .hasMessageContaining("auth.allowUnauthenticated: true");
        DonorConfig v6 = ConfigLoader.parse("donor.yaml", "listen: \"[::]:0\"\n", DonorConfig.class);
        assertThatThrownBy(() -> new DonorServer(v6)).hasMessageStartingWith("refusing to listen on [::]:0");
    }
}
