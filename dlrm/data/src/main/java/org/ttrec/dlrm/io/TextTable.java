package org.ttrec.dlrm.io;

import java.util.List;

/** Plain-text tables for the terminal: the summaries of {@code ttrec bench} and {@code ttrec sweep}. */
public final class TextTable {
    private TextTable() {}

    /**
     * Lays rows out in columns two spaces apart: the first {@code leftColumns} columns
     * left-aligned (names), the rest right-aligned so that the digits of numbers line up.
     *
     * @param rows        the cells, the header first; rows may be shorter than the longest
     * @param leftColumns how many leading columns are left-aligned
     * @return one line per row, each ending in '\n' and without trailing blanks
     */
    public static String align(List<List<String>> rows, int leftColumns) {
        int columns = rows.stream().mapToInt(List::size).max().orElse(0);
        int[] width = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                l.append(String.format(i < leftColumns ? "%-" + width[i] + "s" : "%" + width[i] + "s", row.get(i)));
                l.append(i + 1 < row.size() ? "  " : "");
            }
            sb.append(l.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
