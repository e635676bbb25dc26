package org.ttrec.dlrm.cli;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code ttrec backends}: lists the compute backends found and whether each can run here. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = {"List the compute backends found on the class path, their devices (--device of the tornado",
            "backend), and which one 'auto' picks."})
final class BackendsCommand implements Callable<Integer> {

    @Option(names = "--threads", defaultValue = "0", description = "Threads for the picked backend (0 = all cores).")
    int threads;

    @Override
    public Integer call() {
        for (BackendProvider p : Backends.providers()) {
            String why = p.unavailableReason();
            System.out.printf("%-8s priority %3d  %s%n", p.name(), p.priority(), why == null ? "available" : "unavailable: " + why);
            for (String d : p.devices()) {
                System.out.println("           device " + d);
            }
        }
        try (ComputeBackend b = Backends.create("auto", threads)) {
            System.out.println("auto -> " + b.description());
        }
        return 0;
    }
}
