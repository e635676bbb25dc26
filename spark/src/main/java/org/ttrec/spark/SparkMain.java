package org.ttrec.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.ttrec.dlrm.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;

/**
 * {@code ttrec-spark}: the Spark application. Run it with {@code spark-submit --class
 * org.ttrec.spark.SparkMain} (the cluster gives the master), or on one machine with
 * {@code ./ttrec spark <command>} (master {@code local[*]} unless {@code --master} says otherwise).
 */
@Command(name = "ttrec-spark", mixinStandardHelpOptions = true,
        description = "Scale-out on Apache Spark: distributed Criteo preprocessing, data-parallel training, "
                + "distributed evaluation.",
        subcommands = {SparkPreprocessCommand.class, SparkTrainCommand.class, SparkEvalCommand.class,
                CommandLine.HelpCommand.class})
public final class SparkMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Runs the application.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** @return the command line, for tests that run commands in-process */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SparkMain());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable cause = rootOfSparkFailure(ex);
            if (cause instanceof TrainingDivergedException) {
                cmd.getErr().println("ttrec-spark " + cmd.getCommandName() + ": " + cause.getMessage());
                return 3;
            }
            if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException
                    || cause instanceof IOException || cause instanceof java.io.UncheckedIOException
                    || cause instanceof UnsupportedOperationException) {
                cmd.getErr().println("ttrec-spark " + cmd.getCommandName() + ": " + cause.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    /**
     * A failed task reaches the driver as a SparkException whose message holds the executor's
     * stack trace; the user needs the task's own exception, which Spark keeps as the cause when it
     * can deserialise it.
     */
    static Throwable rootOfSparkFailure(Throwable ex) {
        Throwable t = ex;
        while (t instanceof org.apache.spark.SparkException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The Spark context of a command: spark-submit's master and settings, or {@code master} (when
     * given, or when nothing set one: {@code local[*]}).
     *
     * @param app    the application name
     * @param master a master URL, or null
     * @return the context (the caller closes it)
     */
    static JavaSparkContext context(String app, String master) {
        SparkConf conf = new SparkConf().setAppName(app)
                // Spark's serialisation debugger needs a JDK class that JDK 25 no longer has
                .set("spark.serializer.extraDebugInfo", "false")
                .setIfMissing("spark.ui.showConsoleProgress", "false"); // the commands print a line per round
        if (master != null) {
            conf.setMaster(master);
        } else {
            conf.setIfMissing("spark.master", "local[*]");
        }
        return new JavaSparkContext(conf);
    }
}
