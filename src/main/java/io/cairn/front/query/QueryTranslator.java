package io.cairn.front.query;

import com.google.protobuf.ByteString;
import io.cairn.bus.CairnException;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.config.CairnConfig;
import io.cairn.proto.v1.DeleteQuery;
import io.cairn.proto.v1.DeleteResult;
import io.cairn.proto.v1.GetQuery;
import io.cairn.proto.v1.GetResult;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryResult;
import io.cairn.proto.v1.RangeQuery;
import io.cairn.proto.v1.RangeResult;
import io.cairn.proto.v1.SetQuery;
import io.cairn.proto.v1.SetResult;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Validates native queries and translates them to keyspace operations and back. Collection {@code c}, key {@code
 * k} is the keyspace key {@code c/k}; every error names the field at fault.
 */
final class QueryTranslator {

  private static final Pattern COLLECTION = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
  private static final byte SEPARATOR = '/';

  private final CairnConfig.Limits limits;

  QueryTranslator(CairnConfig.Limits limits) {
    this.limits = limits;
  }

  /** {@code field} is where the query sits in the request, e.g. {@code query} or {@code queries[2]}. */
  KvOp toOp(String field, Query query) {
    switch (query.getKindCase()) {
      case GET -> {
        GetQuery get = query.getGet();
        String f = field + ".get";
        return new KvOp.Get(fullKey(f, get.getCollection(), get.getKey()));
      }
      case SET -> {
        SetQuery set = query.getSet();
        String f = field + ".set";
        byte[] key = fullKey(f, set.getCollection(), set.getKey());
        if (set.getValue().size() > limits.maxValueSize()) {
          throw CairnException.invalid(f + ".value: " + set.getValue().size() + " bytes exceeds the limit of "
              + limits.maxValueSize() + " bytes (limits.max-value-size)");
        }
        return KvOp.Put.of(key, set.getValue().toByteArray());
      }
      case DELETE -> {
        DeleteQuery delete = query.getDelete();
        String f = field + ".delete";
        if (!delete.hasEnd()) {
          return KvOp.Delete.of(fullKey(f, delete.getCollection(), delete.getKey()), null);
        }
        byte[] prefix = prefix(f, delete.getCollection());
        return KvOp.Delete.of(bound(f + ".key", prefix, delete.getKey()), end(f + ".end", prefix, delete.getEnd()));
      }
      case RANGE -> {
        RangeQuery range = query.getRange();
        String f = field + ".range";
        byte[] prefix = prefix(f, range.getCollection());
        int max = limits.maxRangeResults();
        int limit = range.getLimit() == 0 || range.getLimit() > max ? max : range.getLimit();
        return KvOp.Range.of(bound(f + ".start", prefix, range.getStart()), end(f + ".end", prefix, range.getEnd()),
            limit, range.getKeysOnly());
      }
      default -> throw CairnException.invalid(field + ": the query has no kind; set exactly one of get, set, "
          + "delete, range");
    }
  }

  /** Translates a result back; {@code query} is the query it answers (for the collection name). */
  QueryResult toResult(Query query, KvResult result) {
    String collection = collectionOf(query);
    int strip = collection.getBytes(StandardCharsets.UTF_8).length + 1;
    QueryResult.Builder out = QueryResult.newBuilder();
    if (result instanceof KvResult.Got got) {
      GetResult.Builder g = GetResult.newBuilder().setFound(got.kv() != null);
      if (got.kv() != null) {
        g.setKv(kv(collection, strip, got.kv()));
      }
      out.setGet(g);
    } else if (result instanceof KvResult.Ranged ranged) {
      RangeResult.Builder r = RangeResult.newBuilder().setMore(ranged.more());
      for (KeyValue kv : ranged.kvs()) {
        r.addKvs(kv(collection, strip, kv));
      }
      out.setRange(r);
    } else if (result instanceof KvResult.Put put) {
      out.setSet(SetResult.newBuilder().setCreated(put.created()).setKv(kv(collection, strip, put.kv())));
    } else {
      out.setDelete(DeleteResult.newBuilder().setDeleted(((KvResult.Deleted) result).count()));
    }
    return out.build();
  }

  private static io.cairn.proto.v1.KeyValue kv(String collection, int strip, KeyValue kv) {
    byte[] key = kv.key();
    return io.cairn.proto.v1.KeyValue.newBuilder()
        .setCollection(collection)
        .setKey(ByteString.copyFrom(key, strip, key.length - strip))
        .setValue(ByteString.copyFrom(kv.value()))
        .setCreateRevision(kv.createRevision())
        .setModRevision(kv.modRevision())
        .setVersion(kv.version())
        .setLease(kv.lease())
        .build();
  }

  private static String collectionOf(Query q) {
    return switch (q.getKindCase()) {
      case GET -> q.getGet().getCollection();
      case SET -> q.getSet().getCollection();
      case DELETE -> q.getDelete().getCollection();
      case RANGE -> q.getRange().getCollection();
      default -> "";
    };
  }

  private byte[] fullKey(String field, String collection, ByteString key) {
    byte[] prefix = prefix(field, collection);
    if (key.isEmpty()) {
      throw CairnException.invalid(field + ".key: must not be empty");
    }
    return bound(field + ".key", prefix, key);
  }

  private byte[] bound(String field, byte[] prefix, ByteString key) {
    if (key.size() > limits.maxKeySize()) {
      throw CairnException.invalid(field + ": " + key.size() + " bytes exceeds the limit of " + limits.maxKeySize()
          + " bytes (limits.max-key-size)");
    }
    byte[] full = new byte[prefix.length + key.size()];
    System.arraycopy(prefix, 0, full, 0, prefix.length);
    key.copyTo(full, prefix.length);
    return full;
  }

  /** Exclusive end: {@code c/end}, or the first key past the collection ({@code c0}) when empty. */
  private byte[] end(String field, byte[] prefix, ByteString end) {
    if (!end.isEmpty()) {
      return bound(field, prefix, end);
    }
    byte[] past = prefix.clone();
    past[past.length - 1] = SEPARATOR + 1;
    return past;
  }

  private static byte[] prefix(String field, String collection) {
    if (collection.isEmpty()) {
      throw CairnException.invalid(field + ".collection: must not be empty");
    }
    if (!COLLECTION.matcher(collection).matches()) {
      throw CairnException.invalid(field + ".collection: \"" + abbreviate(collection) + "\" is not a valid "
          + "collection name; use 1-128 characters of A-Z a-z 0-9 _ . -");
    }
    byte[] name = collection.getBytes(StandardCharsets.US_ASCII);
    byte[] prefix = new byte[name.length + 1];
    System.arraycopy(name, 0, prefix, 0, name.length);
    prefix[name.length] = SEPARATOR;
    return prefix;
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
