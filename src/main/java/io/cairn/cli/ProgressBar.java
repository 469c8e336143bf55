package io.cairn.cli;

import io.cairn.snapshot.SnapshotFile;

import java.io.PrintStream;

/**
 * A progress bar on standard error: redrawn in place on a terminal, or a line at each quarter otherwise (logs and
 * pipes get a few lines, not a stream of carriage returns).
 */
final class ProgressBar implements SnapshotFile.Progress {

  private static final int WIDTH = 30;

  private final String label;
  private final PrintStream out = System.err;
  private final boolean terminal = System.console() != null;
  private long lastDrawNanos;
  private int lastQuarter = -1;
  private boolean drawn;

  ProgressBar(String label) {
    this.label = label;
  }

  @Override
  public void advance(long done, long total) {
    double fraction = total <= 0 ? 1 : Math.min(1, (double) done / total);
    if (terminal) {
      long now = System.nanoTime();
      if (fraction < 1 && now - lastDrawNanos < 100_000_000L) {
        return;
      }
      lastDrawNanos = now;
      int filled = (int) (fraction * WIDTH);
      out.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
          + String.format("%3d%% %s / %s", (int) (fraction * 100), size(done), size(total)));
      drawn = true;
    } else {
      int quarter = (int) (fraction * 4);
      if (quarter != lastQuarter) {
        lastQuarter = quarter;
        out.println(label + ": " + (quarter * 25) + "% (" + size(done) + " of " + size(total) + ")");
      }
    }
  }

  /** Ends the bar's line, when one is drawn. */
  void finish() {
    if (terminal && drawn) {
      out.println();
      drawn = false;
    }
  }

  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format("%.1f KiB", bytes / 1024.0);
    }
    if (bytes < 1024L * 1024 * 1024) {
      return String.format("%.1f MiB", bytes / (1024.0 * 1024));
    }
    return String.format("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  }
}
