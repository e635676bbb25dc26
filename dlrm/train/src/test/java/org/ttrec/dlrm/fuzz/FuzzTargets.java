package org.ttrec.dlrm.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The fuzz targets: one class per file format a user can hand ttrec, each with a libFuzzer-style
 * {@code public static void fuzzerTestOneInput(byte[])} and {@code static List<byte[]> seeds()}.
 * Findings are kept as regression inputs in {@code src/test/resources/fuzz/<Target>/}.
 */
public final class FuzzTargets {
    private FuzzTargets() {}

    /** Every target, by class name. */
    public static final List<String> ALL = List.of(
            "org.ttrec.dlrm.data.RawTextFuzzer",
            "org.ttrec.dlrm.data.CsvTextFuzzer",
            "org.ttrec.dlrm.data.RowParserFuzzer",
            "org.ttrec.dlrm.data.ShardFuzzer",
            "org.ttrec.dlrm.data.MlperfBinFuzzer",
            "org.ttrec.dlrm.data.DictionariesFuzzer",
            "org.ttrec.dlrm.train.CheckpointFuzzer",
            "org.ttrec.dlrm.score.ModelFileFuzzer");

    /** @return the targets named by -Dttrec.fuzz.targets (simple or full names, comma-separated), or all */
    public static List<String> selected() {
        String p = System.getProperty("ttrec.fuzz.targets", "").trim();
        if (p.isEmpty()) {
            return ALL;
        }
        List<String> out = new ArrayList<>();
        for (String n : p.split(",")) {
            String t = n.trim();
            ALL.stream().filter(a -> a.equals(t) || a.endsWith("." + t)).forEach(out::add);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("ttrec.fuzz.targets '" + p + "' names none of " + ALL);
        }
        return out;
    }

    /** @return the simple name of a target class */
    public static String simpleName(String target) {
        return target.substring(target.lastIndexOf('.') + 1);
    }

    /** Runs a target's entry point on one input (in this JVM). */
    public static void run(String target, byte[] input) throws ReflectiveOperationException {
        Method m = Class.forName(target).getMethod("fuzzerTestOneInput", byte[].class);
        try {
            m.invoke(null, (Object) input);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** @return a target's generated seeds */
    @SuppressWarnings("unchecked")
    public static List<byte[]> seeds(String target) throws ReflectiveOperationException {
        Method m = Class.forName(target).getMethod("seeds");
        return (List<byte[]>) m.invoke(null);
    }

    /** @return the checked-in regression inputs of a target (past findings and hand-made cases) */
    public static List<Path> regressionInputs(String target) throws IOException {
        URL u = FuzzTargets.class.getResource("/fuzz/" + simpleName(target));
        if (u == null) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(Path.of(u.toURI()))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    static byte[] read(InputStream in) throws IOException {
        return in.readAllBytes();
    }
}
