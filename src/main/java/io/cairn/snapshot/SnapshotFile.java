package io.cairn.snapshot;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import io.cairn.bus.StoreExport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The snapshot file format, version 1:
 *
 * <pre>
 * header (84 bytes, big-endian): magic "CAIRNSNP", format version u16, compression u8, reserved u8, revision,
 *   applied index, compact revision, cluster id, member id, creation time (epoch ms), entry count, key count,
 *   payload length (i64 each)
 * payload: the records, compressed as a whole (zstd) or not: family u8 (1..), key length varint, key,
 *   value length varint, value; family 0 ends them
 * checksum (32 bytes): SHA-256 over the header followed by the SHA-256 of the payload
 * </pre>
 *
 * <p>A file saved by etcd's clients from Cairn's etcd Snapshot stream also has zero padding up to a multiple of 512
 * bytes and a SHA-256 of everything before it; readers accept and check that trailer too.
 */
public final class SnapshotFile {

  private SnapshotFile() {}

  static final byte[] MAGIC = "CAIRNSNP".getBytes(StandardCharsets.US_ASCII);
  public static final int FORMAT_VERSION = 1;
  public static final int HEADER_SIZE = 84;
  public static final int CHECKSUM_SIZE = 32;
  public static final String EXTENSION = ".snap";

  public enum Compression {
    NONE, ZSTD;

    static Compression of(int code) throws SnapshotException {
      if (code < 0 || code >= values().length) {
        throw new SnapshotException("unknown compression code " + code + " in the header");
      }
      return values()[code];
    }
  }

  public record Header(int formatVersion, Compression compression, long revision, long appliedIndex,
                       long compactRevision, long clusterId, long memberId, long createdMillis, long entryCount,
                       long keyCount, long payloadLength) {

    long contentLength() {
      return HEADER_SIZE + payloadLength + CHECKSUM_SIZE;
    }

    byte[] encode() {
      return ByteBuffer.allocate(HEADER_SIZE).put(MAGIC).putShort((short) formatVersion)
          .put((byte) compression.ordinal()).put((byte) 0).putLong(revision).putLong(appliedIndex)
          .putLong(compactRevision).putLong(clusterId).putLong(memberId).putLong(createdMillis)
          .putLong(entryCount).putLong(keyCount).putLong(payloadLength).array();
    }

    static Header decode(byte[] raw) throws SnapshotException {
      if (!Arrays.equals(raw, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
        throw new SnapshotException("not a Cairn snapshot: the file does not start with the snapshot magic");
      }
      ByteBuffer b = ByteBuffer.wrap(raw, MAGIC.length, HEADER_SIZE - MAGIC.length);
      int version = Short.toUnsignedInt(b.getShort());
      if (version != FORMAT_VERSION) {
        throw new SnapshotException("snapshot format version " + version + " is not one this build reads ("
            + FORMAT_VERSION + "); use the Cairn version that wrote it, or a newer one");
      }
      Compression compression = Compression.of(b.get());
      b.get();
      Header h = new Header(version, compression, b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong(),
          b.getLong(), b.getLong(), b.getLong(), b.getLong());
      if (h.payloadLength() < 0 || h.entryCount() < 0 || h.revision() < 0) {
        throw new SnapshotException("the snapshot header is corrupted (negative length, count or revision)");
      }
      return h;
    }
  }

  /** Told how far a long operation has come. */
  public interface Progress {
    void advance(long done, long total);

    Progress NONE = (done, total) -> { };
  }

  /** What is written where; a temporary file beside {@code target} is renamed to it only when complete. */
  public record WriteOptions(Compression compression, int zstdLevel, long clusterId, long memberId) {}

  /**
   * Writes the store's view to {@code target}: into a temporary file in the same directory, synced, then renamed
   * atomically and the directory synced. A crash leaves at most a {@code .partial} file, never a file named like a
   * snapshot. Blocking.
   */
  public static Header write(StoreExport export, Path target, WriteOptions options) throws IOException {
    Path partial = partialOf(target);
    long created = System.currentTimeMillis();
    long[] entries = {0};
    MessageDigest payloadDigest = sha256();
    try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.position(HEADER_SIZE);
      CountingOutputStream counted = new CountingOutputStream(new DigestOutputStream(
          Channels.newOutputStream(channel), payloadDigest));
      OutputStream compressed = options.compression() == Compression.ZSTD
          ? new ZstdOutputStream(new KeepOpen(counted), options.zstdLevel()) : new KeepOpen(counted);
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(compressed, 1 << 20))) {
        export.forEach((family, key, value) -> {
          out.writeByte(family);
          writeVarint(out, key.length);
          out.write(key);
          writeVarint(out, value.length);
          out.write(value);
          entries[0]++;
        });
        out.writeByte(0);
      }
      counted.flush();
      Header header = new Header(FORMAT_VERSION, options.compression(), export.revision(), export.appliedIndex(),
          export.compactRevision(), options.clusterId(), options.memberId(), created, entries[0], export.keyCount(),
          counted.count);
      byte[] headerBytes = header.encode();
      writeFully(channel, ByteBuffer.wrap(headerBytes), 0);
      writeFully(channel, ByteBuffer.wrap(checksum(headerBytes, payloadDigest.digest())), header.payloadLength()
          + HEADER_SIZE);
      channel.force(true);
      moveIntoPlace(partial, target);
      return header;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      throw e;
    }
  }

  /** Renames a complete file into place and syncs the directory, so the rename itself survives a crash. */
  public static void moveIntoPlace(Path partial, Path target) throws IOException {
    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel dir = FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  /** The hidden temporary name a file is written under before it is renamed to {@code target}. */
  public static Path partialOf(Path target) {
    return target.resolveSibling("." + target.getFileName() + ".partial");
  }

  /** A file that passed every check: its header, its size, whether it carries etcd's trailer. */
  public record Verified(Header header, long fileSize, boolean etcdTrailer) {}

  /** Reads only the header, for listings; the file is not verified. Blocking. */
  public static Header readHeader(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] raw = in.readNBytes(HEADER_SIZE);
      if (raw.length < HEADER_SIZE) {
        throw new SnapshotException("truncated: " + raw.length + " bytes, shorter than a snapshot header");
      }
      return Header.decode(raw);
    }
  }

  /**
   * Checks a whole file: header, length, the checksum over every byte, and etcd's trailer when present. Throws
   * {@link SnapshotException} saying what is wrong. Blocking; reads the file once.
   */
  public static Verified verify(Path file, Progress progress) throws IOException {
    long size = Files.size(file);
    if (size < HEADER_SIZE + CHECKSUM_SIZE) {
      throw new SnapshotException("truncated: the file has " + size + " bytes; a snapshot has at least "
          + (HEADER_SIZE + CHECKSUM_SIZE));
    }
    MessageDigest whole = sha256();
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      byte[] headerBytes = raw.readNBytes(HEADER_SIZE);
      Header header = Header.decode(headerBytes);
      long expected = header.contentLength();
      if (size < expected) {
        throw new SnapshotException("truncated: the header promises " + expected + " bytes, the file has " + size);
      }
      boolean etcd = size > expected;
      if (etcd && size % 512 != CHECKSUM_SIZE) {
        throw new SnapshotException((size - expected) + " unexpected bytes after the end of the snapshot");
      }
      whole.update(headerBytes);
      MessageDigest payloadDigest = sha256();
      long done = HEADER_SIZE;
      byte[] buffer = new byte[1 << 16];
      long remaining = header.payloadLength();
      while (remaining > 0) {
        int n = raw.read(buffer, 0, (int) Math.min(buffer.length, remaining));
        if (n < 0) {
          throw new SnapshotException("truncated: the file ended inside the data");
        }
        payloadDigest.update(buffer, 0, n);
        whole.update(buffer, 0, n);
        remaining -= n;
        done += n;
        progress.advance(done, size);
      }
      byte[] stored = raw.readNBytes(CHECKSUM_SIZE);
      whole.update(stored);
      if (!MessageDigest.isEqual(stored, checksum(headerBytes, payloadDigest.digest()))) {
        throw new SnapshotException("checksum mismatch: the file is corrupted (a byte was changed or lost)");
      }
      if (etcd) {
        long padding = size - expected - CHECKSUM_SIZE;
        for (long i = 0; i < padding; i++) {
          int b = raw.read();
          if (b != 0) {
            throw new SnapshotException("the padding before the etcd trailer is not zero: the file is corrupted");
          }
          whole.update((byte) 0);
        }
        byte[] trailer = raw.readNBytes(CHECKSUM_SIZE);
        if (!MessageDigest.isEqual(trailer, whole.digest())) {
          throw new SnapshotException("the etcd sha256 trailer does not match: the file is corrupted");
        }
      }
      progress.advance(size, size);
      return new Verified(header, size, etcd);
    }
  }

  /**
   * Reads the records of a verified file, in order; throws {@link SnapshotException} when the data does not
   * decode or the count differs from the header's. Blocking.
   */
  public static void readRecords(Path file, Header header, StoreExport.RecordVisitor visitor, Progress progress)
      throws IOException {
    try (InputStream raw = Files.newInputStream(file)) {
      raw.skipNBytes(HEADER_SIZE);
      CountingInputStream counted = new CountingInputStream(new BoundedInputStream(raw, header.payloadLength()));
      InputStream payload = header.compression() == Compression.ZSTD ? new ZstdInputStream(counted) : counted;
      long entries = 0;
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(payload, 1 << 20))) {
        while (true) {
          int family = in.readUnsignedByte();
          if (family == 0) {
            break;
          }
          byte[] key = in.readNBytes(readLength(in));
          byte[] value = in.readNBytes(readLength(in));
          visitor.accept(family, key, value);
          entries++;
          if ((entries & 0xFFF) == 0) {
            progress.advance(counted.count, header.payloadLength());
          }
        }
        if (in.read() != -1) {
          throw new SnapshotException("the snapshot's data goes on after its end marker: the file is corrupted");
        }
      } catch (EOFException e) {
        throw new SnapshotException("the snapshot's data ends too early: the file is corrupted", e);
      } catch (IOException e) {
        if (e instanceof SnapshotException) {
          throw e;
        }
        throw new SnapshotException("the snapshot's data does not decode (" + e.getMessage() + "): the file is "
            + "corrupted", e);
      }
      if (entries != header.entryCount()) {
        throw new SnapshotException("the snapshot holds " + entries + " records but its header says "
            + header.entryCount() + ": the file is corrupted");
      }
      progress.advance(header.payloadLength(), header.payloadLength());
    }
  }

  private static int readLength(DataInputStream in) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      int b = in.readUnsignedByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (v > Integer.MAX_VALUE - 16) {
          throw new SnapshotException("a record length of " + v + " bytes: the file is corrupted");
        }
        return (int) v;
      }
    }
    throw new SnapshotException("a malformed record length: the file is corrupted");
  }

  private static void writeVarint(DataOutputStream out, int v) throws IOException {
    while ((v & ~0x7F) != 0) {
      out.writeByte((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.writeByte(v);
  }

  private static byte[] checksum(byte[] header, byte[] payloadDigest) {
    MessageDigest d = sha256();
    d.update(header);
    d.update(payloadDigest);
    return d.digest();
  }

  /** A fresh SHA-256 digest: the one checksum of snapshot files and of snapshots streamed to etcd clients. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      position += channel.write(buffer, position);
    }
  }

  /** Lets a compressor finish its frame without closing the file under it. */
  private static final class KeepOpen extends FilterOutputStream {
    KeepOpen(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }

  private static final class CountingOutputStream extends FilterOutputStream {
    long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }

  private static final class CountingInputStream extends java.io.FilterInputStream {
    long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }

  /** The payload only: reading stops at its length, whatever follows in the file. */
  private static final class BoundedInputStream extends java.io.FilterInputStream {
    private long left;

    BoundedInputStream(InputStream in, long length) {
      super(in);
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        left--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }
  }
}
