package io.cairn.ops;

import com.sun.management.UnixOperatingSystemMXBean;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process metrics etcd exports under Prometheus' standard names, which Micrometer's own JVM metrics do not
 * produce: {@code process_resident_memory_bytes}, {@code process_virtual_memory_bytes},
 * {@code process_cpu_seconds_total}, {@code process_open_fds} and {@code process_max_fds}. etcd's dashboards and
 * tools read them; {@code etcdctl check datascale} fails without the resident memory. Memory comes from
 * {@code /proc/self/status} and is left out where there is none.
 */
public final class ProcessMetrics implements MeterBinder {

  private static final Path STATUS = Path.of("/proc/self/status");

  @Override
  public void bindTo(MeterRegistry registry) {
    if (Files.isReadable(STATUS)) {
      Gauge.builder("process.resident.memory", () -> statusKilobytes("VmRSS:") * 1024)
          .description("Resident memory size in bytes").baseUnit(BaseUnits.BYTES).register(registry);
      Gauge.builder("process.virtual.memory", () -> statusKilobytes("VmSize:") * 1024)
          .description("Virtual memory size in bytes").baseUnit(BaseUnits.BYTES).register(registry);
    }
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean cpu && cpu.getProcessCpuTime() >= 0) {
      FunctionCounter.builder("process.cpu", cpu, bean -> bean.getProcessCpuTime() / 1e9)
          .description("Total user and system CPU time spent in seconds").baseUnit("seconds")
          .register(registry);
    }
    if (os instanceof UnixOperatingSystemMXBean unix) {
      Gauge.builder("process.open.fds", unix, UnixOperatingSystemMXBean::getOpenFileDescriptorCount)
          .description("Number of open file descriptors").register(registry);
      Gauge.builder("process.max.fds", unix, UnixOperatingSystemMXBean::getMaxFileDescriptorCount)
          .description("Maximum number of open file descriptors").register(registry);
    }
  }

  /** A {@code kB} field of {@code /proc/self/status} ("VmRSS:   123456 kB"); NaN if it cannot be read. */
  static double statusKilobytes(String field) {
    try {
      for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
        if (line.startsWith(field)) {
          String[] parts = line.substring(field.length()).trim().split("\\s+");
          return Double.parseDouble(parts[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
    return Double.NaN;
  }
}
