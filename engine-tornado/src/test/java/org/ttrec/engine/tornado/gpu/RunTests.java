package org.ttrec.engine.tornado.gpu;

import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Runs JUnit test classes or packages without Maven (the GPU machine has only the jars carried
 * there): {@code RunTests org.ttrec.tests.conformance org.ttrec.engine.tornado.LaunchCheckTest}.
 * An argument that names a loadable class selects it, any other a package, whose classes named
 * *Test are found in the class path's jars here (JUnit's own package scan needs the jdk.zipfs
 * module, which a jlinked runtime may lack). Prints the failures
 * and "N passed, N failed, N skipped"; the exit code is 1 when a test failed or none ran.
 */
public final class RunTests {
    private RunTests() {}

    /** @param args classes and packages to run */
    public static void main(String[] args) {
        LauncherDiscoveryRequestBuilder req = LauncherDiscoveryRequestBuilder.request();
        for (String a : args) {
            try {
                req.selectors(selectClass(Class.forName(a)));
            } catch (ClassNotFoundException e) {
                for (String c : testClasses(a)) {
                    try {
                        req.selectors(selectClass(Class.forName(c)));
                    } catch (ClassNotFoundException impossible) {
                        throw new IllegalStateException(c + " is listed in a jar but cannot be loaded", impossible);
                    }
                }
            }
        }
        LauncherDiscoveryRequest request = req.build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary s = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 30);
        long failed = s.getTotalFailureCount();
        long passed = s.getTestsSucceededCount();
        System.out.println("RunTests " + Arrays.toString(args) + ": " + s.getTestsFoundCount() + " found");
        System.out.println(passed + " passed, " + failed + " failed, " + (s.getTestsSkippedCount() + s.getTestsAbortedCount())
                + " skipped");
        System.exit(failed > 0 || passed == 0 ? 1 : 0);
    }

    /** @return the top-level classes named *Test of a package, from the class path's jars */
    static List<String> testClasses(String pkg) {
        String prefix = pkg.replace('.', '/') + "/";
        List<String> found = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.endsWith(".jar")) {
                continue;
            }
            try (JarFile jar = new JarFile(entry)) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    String n = e.nextElement().getName();
                    if (n.startsWith(prefix) && n.indexOf('/', prefix.length()) < 0 && n.endsWith("Test.class")
                            && !n.contains("$")) {
                        found.add(n.substring(0, n.length() - ".class".length()).replace('/', '.'));
                    }
                }
            } catch (IOException ex) {
                throw new UncheckedIOException("reading " + entry, ex);
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(pkg + " is neither a class nor a package with *Test classes in the class path's jars");
        }
        return found;
    }
}
