package org.ttrec.dlrm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue item 5: checks come before any work. Config ranges, the backend, compression and
 * checkpoint/data compatibility are checked before data is read or a folder made; non-checkpoint
 * files are recognised; raw-text table mismatches say which tables and what to do.
 */
class ChecksFirstCliTest {

    @Test
    void aTtRankThatExpandsTheModelIsRefusedUnlessAllowed(@TempDir Path dir) {
        Path out = dir.resolve("r1000");
        Cli.Result r = Cli.train(out, "--tt-rank", "1000", "--max-steps", "2");
        assertEquals(2, r.rc(), r::all);
        assertTrue(r.err().contains("--tt-rank") && r.err().contains("--allow-expansion")
                && r.err().contains("table 9"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void badBackendAndLearningRateAreCaughtBeforeTheDataIsRead(@TempDir Path dir) {
        // the data does not exist: a check that comes first names the option, not the data
        Path missing = dir.resolve("missing.tsv");
        Cli.Result b = Cli.train(dir.resolve("b"), "--backend", "nosuch", "--data", missing);
        assertEquals(2, b.rc(), b::all);
        assertTrue(b.err().contains("nosuch") && !b.err().contains("missing.tsv"), b.err());
        Cli.Result l = Cli.train(dir.resolve("l"), "--lr", "1e39", "--data", missing);
        assertEquals(2, l.rc(), l::all);
        assertTrue(l.err().contains("--lr") && l.err().contains("1.0E39") && !l.err().contains("Infinity"), l.err());
        Cli.Result i = Cli.train(dir.resolve("i"), "--set", "model.tt.init=bogus", "--data", missing);
        assertEquals(2, i.rc(), i::all);
        assertTrue(i.err().contains("model.tt.init") && i.err().contains("bogus"), i.err());
        assertFalse(Files.exists(dir.resolve("b")) || Files.exists(dir.resolve("l")) || Files.exists(dir.resolve("i")));
    }

    @Test
    void modelDataMismatchOnResumeIsCaughtBeforeAFolderIsMade(@TempDir Path dir) throws Exception {
        Path synth = dir.resolve("s.tsv");
        assertEquals(0, Cli.run("synth", "-o", synth, "--rows", "1400", "--scale-down", "5000", "--seed", "3",
                "--no-progress").rc());
        Path other = dir.resolve("o.tsv");
        assertEquals(0, Cli.run("synth", "-o", other, "--rows", "700", "--scale-down", "5000", "--seed", "4",
                "--no-progress").rc());
        Path run = dir.resolve("run");
        Cli.Result t = Cli.train(run, "--data", synth, "--max-steps", "3", "--tt-threshold", "50", "--tt-rank", "2");
        assertEquals(0, t.rc(), t::all);
        Path resumed = dir.resolve("resumed");
        Cli.Result r = Cli.run("train", "--resume", run.resolve("checkpoint.ttrec"), "--data", other, "--out", resumed,
                "--max-steps", "6");
        assertEquals(2, r.rc(), r::all);
        assertTrue(r.err().contains("table ") && r.err().contains("rows"), r.err());
        assertFalse(Files.exists(resumed), "a mismatched resume made a run folder");

        // eval against another raw file: which tables differ, and what to do
        Cli.Result e = Cli.run("eval", "--checkpoint", run.resolve("checkpoint.ttrec"), "--data", other,
                "--backend", "scalar");
        assertEquals(2, e.rc(), e::all);
        assertTrue(e.err().contains("table ") && e.err().contains("preprocess"), e.err());
    }

    @Test
    void nonCheckpointFilesAreRecognisedAndFoldersAccepted(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("loss.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R',
            0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Cli.Result p = Cli.run("eval", "--checkpoint", png, "--backend", "scalar");
        assertEquals(2, p.rc(), p::all);
        assertTrue(p.err().contains("not a ttrec checkpoint") && p.err().contains("PNG"), p.err());
        assertFalse(p.err().contains("truncated"), p.err());

        Path emptyDir = Files.createDirectory(dir.resolve("nothing-here"));
        Cli.Result f = Cli.run("eval", "--checkpoint", emptyDir, "--backend", "scalar");
        assertEquals(2, f.rc(), f::all);
        assertTrue(f.err().contains("folder") && !f.err().contains("does not exist"), f.err());

        // a run folder stands for its newest checkpoint
        Path run = dir.resolve("run");
        assertEquals(0, Cli.train(run, "--max-steps", "5").rc());
        Cli.Result ok = Cli.run("eval", "--checkpoint", run, "--backend", "scalar");
        assertEquals(0, ok.rc(), ok::all);
        assertTrue(ok.out().contains("step 5"), ok.out());
    }

    @Test
    void aUtf8ByteOrderMarkDoesNotFailTheFirstRow(@TempDir Path dir) throws Exception {
        Path synth = dir.resolve("s.tsv");
        assertEquals(0, Cli.run("synth", "-o", synth, "--rows", "700", "--scale-down", "5000", "--no-progress").rc());
        byte[] body = Files.readAllBytes(synth);
        byte[] bom = new byte[body.length + 3];
        bom[0] = (byte) 0xEF;
        bom[1] = (byte) 0xBB;
        bom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, bom, 3, body.length);
        Path withBom = Files.write(dir.resolve("bom.tsv"), bom);
        Path pp = dir.resolve("pp");
        Cli.Result r = Cli.run("preprocess", "-o", pp, "--no-progress", withBom);
        assertEquals(0, r.rc(), r::all);
        assertTrue(r.out().contains("700 rows"), r.out());
    }
}
