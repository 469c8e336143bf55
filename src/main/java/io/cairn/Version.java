package io.cairn;

/** Versions this build reports. */
public final class Version {

  private Version() {}

  /** The Cairn version, from the jar manifest; "dev" when running from classes. */
  public static final String VERSION = version();
  /** The etcd server version whose API this build answers to (what etcd clients check). */
  public static final String ETCD_COMPATIBLE = "3.4.0";
  public static final String ETCD_CLUSTER = "3.4.0";

  private static String version() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
