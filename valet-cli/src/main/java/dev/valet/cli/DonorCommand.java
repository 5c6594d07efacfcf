package dev.valet.cli;

import dev.valet.donor.DonorDaemon;
import dev.valet.donor.memory.MemInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code valet donor}: lend this machine's idle memory to Valet clients. */
@Command(name = "donor", mixinStandardHelpOptions = true,
        header = "Lend this machine's idle memory to Valet clients (the donor daemon).",
        description = {
            "Lend this machine's idle memory to Valet clients over TCP, and over RDMA where the host has a device"
                    + " (--transport).",
            "Settings come from donor.yaml (--config); every flag below that names a YAML key overrides it.",
            "Stops cleanly on SIGTERM or Ctrl-C: connections are closed and every lent slab is released."})
final class DonorCommand implements Callable<Integer> {
    @Mixin
    DonorConfigOptions donor;

    @Option(names = "--ready-file", paramLabel = "FILE",
            description = "Once listening, write the bound HOST:PORT to this file (atomically), for scripts"
                    + " and tests that start a donor on port 0.")
    Path readyFile;

    @Option(names = "--meminfo-file", paramLabel = "FILE", hidden = true,
            description = "Test hook (docs/operations.md): read MemAvailable from this file, in /proc/meminfo's"
                    + " format, instead of /proc/meminfo; tests rewrite it to induce memory pressure.")
    Path meminfoFile;

    @Override
    public Integer call() throws Exception {
        return DonorDaemon.run(donor.load(), meminfoFile != null ? new MemInfo(meminfoFile) : MemInfo.system(),
                readyFile);
    }
}
