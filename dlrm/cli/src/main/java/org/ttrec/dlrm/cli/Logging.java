package org.ttrec.dlrm.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One-line log format on stderr for the CLI: {@code [ttrec] message}. */
final class Logging {
    private Logging() {}

    static void configure() {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler h = new ConsoleHandler();
        h.setLevel(Level.ALL);
        h.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String lvl = r.getLevel().intValue() >= Level.WARNING.intValue() ? r.getLevel().getName() + ": " : "";
                return "[ttrec] " + lvl + formatMessage(r) + System.lineSeparator();
            }
        });
        root.addHandler(h);
        root.setLevel(Level.INFO);
    }
}
