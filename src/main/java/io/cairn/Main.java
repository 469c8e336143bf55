package io.cairn;

import io.cairn.cli.SnapshotCommand;
import io.cairn.cli.StartCommand;
import io.cairn.cli.ValidateConfigCommand;
import io.cairn.cli.VersionCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar cairn.jar [start|version|validate-config|snapshot]}; no command means {@code start}. */
@Command(name = "cairn", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "Cairn: a reactive, clustered key-value database server.",
    subcommands = {StartCommand.class, VersionCommand.class, ValidateConfigCommand.class,
        SnapshotCommand.class})
public final class Main {

  public static void main(String[] args) {
    String[] effective = args.length == 0 ? new String[] {"start"} : args;
    int code = new CommandLine(new Main()).execute(effective);
    System.exit(code);
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cairn " + Version.VERSION};
    }
  }
}
