package org.ttrec.dlrm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The {@code ttrec} command line. Sub-commands plug in here; the launcher script at the
 * repository root starts this class with the JVM flags the engine needs.
 */
@Command(name = "ttrec", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train and serve DLRM recommendation models with Tensor-Train compressed embedding tables.",
        subcommands = {TrainCommand.class, SweepCommand.class, EvalCommand.class, ExportCommand.class,
                ModelFileCommand.class, ServeCommand.class, SynthCommand.class, PreprocessCommand.class,
                BackendsCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Runs the CLI.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        Logging.configure();
        System.exit(commandLine().execute(args));
    }

    /** @return the configured command line, for tests that run commands in-process */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Bad input and impossible configs end with one clear line, not a stack trace.
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof IOException || ex instanceof java.io.UncheckedIOException) {
                cmd.getErr().println("ttrec " + cmd.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    /** @return the project version baked in at build time */
    public static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/org/ttrec/dlrm/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Supplies {@code --version}. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"ttrec " + version(),
                    "JVM: " + System.getProperty("java.vm.name") + " " + Runtime.version(),
                    "OS: " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                            + ", " + Runtime.getRuntime().availableProcessors() + " cores"};
        }
    }
}
