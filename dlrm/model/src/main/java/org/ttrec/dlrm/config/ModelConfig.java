package org.ttrec.dlrm.config;

import com.fasterxml.jackson.annotation.JsonMerge;
import com.fasterxml.jackson.annotation.OptBoolean;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.Arrays;

/**
 * The DLRM architecture (docs/dlrm.md). Fields are public so a JSON config file can set any
 * of them; {@link #validate()} checks the combination.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public final class ModelConfig {
    /** Dense features per sample (13 for Criteo). */
    public int denseFeatures = 13;
    /** Embedding dimension D; must equal the bottom MLP's output width. */
    public int embeddingDim = 16;
    /** Bottom MLP widths including the input, dlrm's --arch-mlp-bot, e.g. "13-512-256-64-16". */
    public String bottomMlp = "13-512-256-64-16";
    /**
     * Top MLP widths, dlrm's --arch-mlp-top without the input ("512-256-1"); the input width
     * (367 for Kaggle) may be given first and is then checked against the interaction.
     */
    public String topMlp = "512-256-1";
    /** "dot" or "cat". */
    public String interaction = "dot";
    /** Dot interaction: also use the diagonal (each vector with itself). */
    public boolean selfInteraction = false;
    /** "sum" or "mean" pooling of bags. */
    public String pooling = "sum";
    /**
     * Rows of each embedding table. A data set with its own cardinalities overrides these; the
     * presets carry the published cardinalities so memory can be planned without data.
     */
    @JsonMerge(OptBoolean.FALSE)
    public int[] tableRows = new int[0];
    /** dlrm's --max-ind-range: table rows are capped at this (0 = no cap). */
    public long maxIndRange = 0;
    /** Which tables are TT and how. */
    public TtConfig tt = new TtConfig();

    /** @return bottom MLP widths, input first */
    public int[] bottomWidths() {
        return parse("bottomMlp", bottomMlp);
    }

    /** @return the rows each table really gets: tableRows capped by maxIndRange */
    public int[] effectiveRows() {
        int[] r = tableRows.clone();
        if (maxIndRange > 0) {
            for (int i = 0; i < r.length; i++) {
                r[i] = (int) Math.min(r[i], maxIndRange);
            }
        }
        return r;
    }

    /** @return the number of vectors the interaction stacks: 1 + tables */
    public int interactionVectors() {
        return 1 + tableRows.length;
    }

    /** @return the top MLP's input width implied by the interaction */
    public int topInputWidth() {
        int f = interactionVectors();
        if (interaction.equals("cat")) {
            return f * embeddingDim;
        }
        return embeddingDim + (selfInteraction ? f * (f + 1) / 2 : f * (f - 1) / 2);
    }

    /**
     * The top MLP's widths: the interaction's width, then {@code topMlp}. As dlrm's
     * {@code --arch-mlp-top}, {@code topMlp} never includes the input: a first width equal to the
     * interaction width is a hidden layer of that width (guessing otherwise silently dropped it).
     *
     * @return top MLP widths, input first
     */
    public int[] topWidths() {
        int[] w = parse("topMlp", topMlp);
        int in = topInputWidth();
        int[] all = new int[w.length + 1];
        all[0] = in;
        System.arraycopy(w, 0, all, 1, w.length);
        return all;
    }

    /**
     * Checks the architecture.
     *
     * @throws IllegalArgumentException naming the field that is wrong
     */
    public void validate() {
        if (denseFeatures < 1) {
            throw new IllegalArgumentException("model.denseFeatures must be >= 1, got " + denseFeatures);
        }
        if (embeddingDim < 1) {
            throw new IllegalArgumentException("model.embeddingDim must be >= 1, got " + embeddingDim);
        }
        int[] bot = bottomWidths();
        if (bot.length < 2) {
            throw new IllegalArgumentException("model.bottomMlp needs an input and at least one layer, got '" + bottomMlp + "'");
        }
        if (bot[0] != denseFeatures) {
            throw new IllegalArgumentException("model.bottomMlp starts with " + bot[0] + " but there are "
                    + denseFeatures + " dense features");
        }
        if (bot[bot.length - 1] != embeddingDim) {
            throw new IllegalArgumentException("model.bottomMlp ends with " + bot[bot.length - 1]
                    + " but the embedding dimension is " + embeddingDim + " (the interaction needs them equal)");
        }
        if (!interaction.equals("dot") && !interaction.equals("cat")) {
            throw new IllegalArgumentException("model.interaction must be 'dot' or 'cat', got '" + interaction + "'");
        }
        if (!pooling.equals("sum") && !pooling.equals("mean")) {
            throw new IllegalArgumentException("model.pooling must be 'sum' or 'mean', got '" + pooling + "'");
        }
        if (tableRows.length < 1) {
            throw new IllegalArgumentException("model.tableRows is empty: the model needs at least one embedding table");
        }
        for (int i = 0; i < tableRows.length; i++) {
            if (tableRows[i] < 1) {
                throw new IllegalArgumentException("model.tableRows[" + i + "] must be >= 1, got " + tableRows[i]);
            }
        }
        if (maxIndRange < 0) {
            throw new IllegalArgumentException("model.maxIndRange must be >= 0, got " + maxIndRange);
        }
        int[] tw = topWidths();
        if (tw[tw.length - 1] != 1) {
            throw new IllegalArgumentException("model.topMlp must end with 1 (one logit), got '" + topMlp + "'");
        }
        tt.validate(tableRows.length);
    }

    static int[] parse(String field, String s) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("model." + field + " is empty");
        }
        String[] parts = s.trim().split("-");
        int[] w = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                w[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("model." + field + " '" + s + "': '" + parts[i] + "' is not a width");
            }
            if (w[i] < 1) {
                throw new IllegalArgumentException("model." + field + " '" + s + "': widths must be >= 1");
            }
        }
        return w;
    }

    @Override
    public String toString() {
        return "bottom " + bottomMlp + ", top " + Arrays.toString(topWidths()) + ", " + interaction
                + ", D=" + embeddingDim + ", " + tableRows.length + " tables";
    }
}
