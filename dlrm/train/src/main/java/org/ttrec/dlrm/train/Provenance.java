package org.ttrec.dlrm.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.engine.ComputeBackend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Where a result came from: version, git SHA, backend, JVM, CPU, seed, threads. */
public final class Provenance {
    private Provenance() {}

    /**
     * @param version ttrec version
     * @param be      the backend
     * @param seed    the run's seed
     * @return the provenance record
     */
    public static ObjectNode of(String version, ComputeBackend be, long seed) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("version", version);
        n.put("gitSha", gitSha());
        n.put("backend", be.description());
        n.put("threads", be.threads());
        n.put("seed", seed);
        n.put("jvm", System.getProperty("java.vm.name") + " " + Runtime.version());
        n.put("cpu", cpuModel());
        n.put("cores", Runtime.getRuntime().availableProcessors());
        n.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        n.put("started", java.time.Instant.now().toString());
        return n;
    }

    /** @return the CPU model from /proc/cpuinfo, or "unknown" */
    public static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return "unknown";
    }

    /** @return the commit of the checkout in {@code ttrec.home} (worktrees and packed refs too), or "unknown" */
    public static String gitSha() {
        String home = System.getProperty("ttrec.home");
        if (home == null) {
            return "unknown";
        }
        try {
            Path git = Path.of(home, ".git");
            if (Files.isRegularFile(git)) { // a worktree: ".git" names the real folder
                String s = Files.readString(git).trim();
                if (!s.startsWith("gitdir:")) {
                    return "unknown";
                }
                git = git.getParent().resolve(s.substring(7).trim()).normalize();
            }
            String head = Files.readString(git.resolve("HEAD")).trim();
            if (!head.startsWith("ref:")) {
                return head;
            }
            String ref = head.substring(4).trim();
            Path common = git;
            if (Files.isRegularFile(git.resolve("commondir"))) {
                common = git.resolve(Files.readString(git.resolve("commondir")).trim()).normalize();
            }
            for (Path dir : List.of(git, common)) {
                if (Files.isRegularFile(dir.resolve(ref))) {
                    return Files.readString(dir.resolve(ref)).trim();
                }
                Path packed = dir.resolve("packed-refs");
                if (Files.isRegularFile(packed)) {
                    for (String l : Files.readAllLines(packed)) {
                        if (l.endsWith(" " + ref)) {
                            return l.substring(0, l.indexOf(' '));
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no readable checkout
        }
        return "unknown";
    }
}
