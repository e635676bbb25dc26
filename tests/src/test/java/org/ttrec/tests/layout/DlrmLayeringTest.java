package org.ttrec.tests.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dlrm modules are layers (data, model, train, cli): a package lives in exactly one module,
 * refers only to packages of its own or a lower module, and no two packages refer to each other
 * through any chain. Maven already rejects a module that imports from a module it does not depend
 * on; this test also catches package cycles inside a module, and a package split across two.
 */
class DlrmLayeringTest {
    private static final List<String> LAYERS = List.of("data", "model", "train", "cli");
    private static final Pattern REF = Pattern.compile("org\\.ttrec\\.dlrm\\.([a-z]+)\\.[A-Z]");

    @Test
    void packagesAreLayeredWithoutCycles() throws IOException {
        Path root = Path.of(System.getProperty("ttrec.repo.root", "..")).resolve("dlrm");
        Map<String, Integer> layerOf = new TreeMap<>();
        Map<String, Set<String>> refs = new TreeMap<>();
        for (int l = 0; l < LAYERS.size(); l++) {
            Path src = root.resolve(LAYERS.get(l)).resolve("src/main/java/org/ttrec/dlrm");
            assertTrue(Files.isDirectory(src), "no sources at " + src);
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String pkg = src.relativize(f.getParent()).toString().replace('/', '.');
                    Integer before = layerOf.putIfAbsent(pkg, l);
                    assertTrue(before == null || before == l, "package org.ttrec.dlrm." + pkg + " is split between dlrm/"
                            + LAYERS.get(before == null ? l : before) + " and dlrm/" + LAYERS.get(l));
                    Matcher m = REF.matcher(read(f));
                    while (m.find()) {
                        if (!m.group(1).equals(pkg)) {
                            refs.computeIfAbsent(pkg, k -> new TreeSet<>()).add(m.group(1));
                        }
                    }
                }
            }
        }
        List<String> upward = new ArrayList<>();
        refs.forEach((p, to) -> to.forEach(q -> {
            if (layerOf.containsKey(q) && layerOf.get(q) > layerOf.get(p)) {
                upward.add(p + " (dlrm/" + LAYERS.get(layerOf.get(p)) + ") -> " + q + " (dlrm/" + LAYERS.get(layerOf.get(q)) + ")");
            }
        }));
        assertEquals(List.of(), upward, "references from a lower layer to a higher one");
        for (String p : refs.keySet()) {
            List<String> cycle = cycleThrough(p, p, refs, new ArrayList<>(List.of(p)), new TreeSet<>());
            assertEquals(null, cycle, "package cycle");
        }
        assertTrue(layerOf.size() >= 8, "found only " + layerOf.keySet() + ": the scan looked in the wrong place");
    }

    private static List<String> cycleThrough(String start, String at, Map<String, Set<String>> refs, List<String> path,
                                             Set<String> seen) {
        for (String next : refs.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                List<String> c = new ArrayList<>(path);
                c.add(start);
                return c;
            }
            if (seen.add(next)) {
                path.add(next);
                List<String> c = cycleThrough(start, next, refs, path, seen);
                if (c != null) {
                    return c;
                }
                path.remove(path.size() - 1);
            }
        }
        return null;
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
