package io.cairn.cli;

import io.cairn.Version;
import picocli.CommandLine.Command;

/** Prints the version of this build and the API versions it serves. */
@Command(name = "version", description = "Print the version.")
public final class VersionCommand implements Runnable {

  @Override
  public void run() {
    System.out.println("cairn " + Version.VERSION);
    System.out.println("native API: cairn.v1");
    System.out.println("etcd API: " + Version.ETCD_COMPATIBLE);
  }
}
