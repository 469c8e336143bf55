package io.cairn.front.query;

import com.google.protobuf.ByteString;
import io.cairn.bus.CairnException;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.config.CairnConfig;
import com.google.protobuf.Value;
import io.cairn.bus.ValuePredicate;
import io.cairn.bus.ValueUpdate;
import io.cairn.proto.v1.DeleteQuery;
import io.cairn.proto.v1.FieldPredicate;
import io.cairn.proto.v1.FilterQuery;
import io.cairn.proto.v1.FilterResult;
import io.cairn.proto.v1.Predicate;
import io.cairn.proto.v1.Predicates;
import io.cairn.proto.v1.UpdateOperation;
import io.cairn.proto.v1.UpdateQuery;
import io.cairn.proto.v1.UpdateResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
      case FILTER -> {
        return filter(field + ".filter", query.getFilter(), limits.maxRangeResults());
      }
      case UPDATE -> {
        return update(field + ".update", query.getUpdate());
      }
      default -> throw CairnException.invalid(field + ": the query has no kind; set exactly one of get, set, "
          + "delete, range, filter, update");
    }
  }

  /** A filter; {@code maxLimit} caps its limit (and stands for limit 0), or 0 for no cap. */
  KvOp.Filter filter(String f, FilterQuery filter, int maxLimit) {
    byte[] prefix = prefix(f, filter.getCollection());
    byte[] start = bound(f + ".start", prefix, filter.getStart());
    long revision = 0;
    if (!filter.getContinuationToken().isEmpty()) {
      Continuation token = Continuation.decode(f + ".continuation_token", filter.getContinuationToken());
      revision = token.revision();
      byte[] after = Arrays.copyOf(token.lastKey(), token.lastKey().length + 1);
      if (Arrays.compareUnsigned(after, start) > 0) {
        start = after;
      }
    }
    long limit = filter.getLimit();
    if (maxLimit > 0 && (limit == 0 || limit > maxLimit)) {
      limit = maxLimit;
    }
    ValuePredicate where = filter.hasWhere() ? predicate(f + ".where", prefix, filter.getWhere()) : null;
    return new KvOp.Filter(start, end(f + ".end", prefix, filter.getEnd()), where, limit, filter.getOffset(),
        revision, filter.getKeysOnly());
  }

  private KvOp.Update update(String f, UpdateQuery update) {
    byte[] prefix = prefix(f, update.getCollection());
    if (update.getOperationsCount() == 0) {
      throw CairnException.invalid(f + ".operations: empty; give at least one of replace_value, set_field, "
          + "remove_field, add");
    }
    List<ValueUpdate> changes = new ArrayList<>(update.getOperationsCount());
    for (int i = 0; i < update.getOperationsCount(); i++) {
      changes.add(change(f + ".operations[" + i + "]", update.getOperations(i)));
    }
    ValuePredicate where = update.hasWhere() ? predicate(f + ".where", prefix, update.getWhere()) : null;
    return new KvOp.Update(bound(f + ".start", prefix, update.getStart()), end(f + ".end", prefix, update.getEnd()),
        where, changes, limits.maxUpdateKeys());
  }

  private ValueUpdate change(String f, UpdateOperation op) {
    return switch (op.getKindCase()) {
      case REPLACE_VALUE -> {
        if (op.getReplaceValue().size() > limits.maxValueSize()) {
          throw CairnException.invalid(f + ".replace_value: " + op.getReplaceValue().size() + " bytes exceeds the "
              + "limit of " + limits.maxValueSize() + " bytes (limits.max-value-size)");
        }
        yield new ValueUpdate.Replace(op.getReplaceValue().toByteArray());
      }
      case SET_FIELD -> {
        if (!op.getSetField().hasValue()) {
          throw CairnException.invalid(f + ".set_field.value: missing; give the JSON value to set");
        }
        yield new ValueUpdate.SetField(path(f + ".set_field.path", op.getSetField().getPath()),
            json(f + ".set_field.value", op.getSetField().getValue()));
      }
      case REMOVE_FIELD -> new ValueUpdate.RemoveField(path(f + ".remove_field", op.getRemoveField()));
      case ADD -> {
        double amount = op.getAdd().getAmount();
        if (!Double.isFinite(amount)) {
          throw CairnException.invalid(f + ".add.amount: " + amount + " is not a finite number");
        }
        yield new ValueUpdate.AddToField(path(f + ".add.path", op.getAdd().getPath()), number(amount));
      }
      default -> throw CairnException.invalid(f + ": the operation has no kind; set exactly one of replace_value, "
          + "set_field, remove_field, add");
    };
  }

  private ValuePredicate predicate(String f, byte[] collectionPrefix, Predicate p) {
    return switch (p.getKindCase()) {
      case KEY_PREFIX -> new ValuePredicate.KeyPrefix(bound(f + ".key_prefix", collectionPrefix, p.getKeyPrefix()));
      case VALUE_EQUALS -> new ValuePredicate.ValueEquals(p.getValueEquals().toByteArray());
      case VALUE_PREFIX -> new ValuePredicate.ValuePrefix(p.getValuePrefix().toByteArray());
      case FIELD -> field(f + ".field", p.getField());
      case AND -> new ValuePredicate.And(predicates(f + ".and", collectionPrefix, p.getAnd()));
      case OR -> new ValuePredicate.Or(predicates(f + ".or", collectionPrefix, p.getOr()));
      case NOT -> new ValuePredicate.Not(predicate(f + ".not", collectionPrefix, p.getNot()));
      default -> throw CairnException.invalid(f + ": the predicate has no kind; set exactly one of key_prefix, "
          + "value_equals, value_prefix, field, and, or, not");
    };
  }

  private List<ValuePredicate> predicates(String f, byte[] collectionPrefix, Predicates list) {
    List<ValuePredicate> out = new ArrayList<>(list.getPredicatesCount());
    for (int i = 0; i < list.getPredicatesCount(); i++) {
      out.add(predicate(f + ".predicates[" + i + "]", collectionPrefix, list.getPredicates(i)));
    }
    return out;
  }

  private ValuePredicate field(String f, FieldPredicate field) {
    List<String> path = path(f + ".path", field.getPath());
    ValuePredicate.Operator operator = switch (field.getOp()) {
      case OPERATOR_EQ -> ValuePredicate.Operator.EQ;
      case OPERATOR_NE -> ValuePredicate.Operator.NE;
      case OPERATOR_LT -> ValuePredicate.Operator.LT;
      case OPERATOR_LE -> ValuePredicate.Operator.LE;
      case OPERATOR_GT -> ValuePredicate.Operator.GT;
      case OPERATOR_GE -> ValuePredicate.Operator.GE;
      case OPERATOR_EXISTS -> ValuePredicate.Operator.EXISTS;
      case OPERATOR_IN -> ValuePredicate.Operator.IN;
      default -> throw CairnException.invalid(f + ".op: missing or unknown; use one of OPERATOR_EQ, OPERATOR_NE, "
          + "OPERATOR_LT, OPERATOR_LE, OPERATOR_GT, OPERATOR_GE, OPERATOR_EXISTS, OPERATOR_IN");
    };
    List<Object> operands = new ArrayList<>();
    switch (operator) {
      case EXISTS -> { }
      case IN -> {
        if (field.getValuesCount() == 0) {
          throw CairnException.invalid(f + ".values: empty; OPERATOR_IN needs the values to look for");
        }
        for (int i = 0; i < field.getValuesCount(); i++) {
          operands.add(json(f + ".values[" + i + "]", field.getValues(i)));
        }
      }
      default -> {
        if (!field.hasValue()) {
          throw CairnException.invalid(f + ".value: missing; " + field.getOp().name() + " compares the field with "
              + "a value");
        }
        operands.add(json(f + ".value", field.getValue()));
      }
    }
    return new ValuePredicate.Field(path, operator, operands);
  }

  /** A dotted field path: names separated by dots, no empty name. */
  static List<String> path(String f, String path) {
    if (path.isEmpty()) {
      throw CairnException.invalid(f + ": empty; name a field, e.g. \"address.city\"");
    }
    List<String> segments = List.of(path.split("\\.", -1));
    for (int i = 0; i < segments.size(); i++) {
      if (segments.get(i).isEmpty()) {
        throw CairnException.invalid(f + ": \"" + abbreviate(path) + "\" has an empty name at segment " + (i + 1)
            + "; separate names with single dots, e.g. \"address.city\"");
      }
    }
    return segments;
  }

  /** A protobuf JSON value as a Vert.x JSON value; whole numbers become longs so that they stay whole. */
  private static Object json(String f, Value value) {
    return switch (value.getKindCase()) {
      case NULL_VALUE -> null;
      case BOOL_VALUE -> value.getBoolValue();
      case STRING_VALUE -> value.getStringValue();
      case NUMBER_VALUE -> {
        double d = value.getNumberValue();
        if (!Double.isFinite(d)) {
          throw CairnException.invalid(f + ": " + d + " is not a JSON number");
        }
        yield number(d);
      }
      case STRUCT_VALUE -> {
        JsonObject object = new JsonObject();
        value.getStructValue().getFieldsMap().forEach((name, v) -> object.put(name, json(f + "." + name, v)));
        yield object;
      }
      case LIST_VALUE -> {
        JsonArray array = new JsonArray();
        List<Value> items = value.getListValue().getValuesList();
        for (int i = 0; i < items.size(); i++) {
          array.add(json(f + "[" + i + "]", items.get(i)));
        }
        yield array;
      }
      default -> throw CairnException.invalid(f + ": the value has no kind; give a JSON value");
    };
  }

  private static Number number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 0x1p53 ? (Number) (long) d : (Number) d;
  }

  /**
   * Translates a result back; {@code query} is the query it answers (for the collection name), {@code revision}
   * the revision the answer was read at.
   */
  QueryResult toResult(Query query, KvResult result, long revision) {
    String collection = collectionOf(query);
    int strip = collection.getBytes(StandardCharsets.UTF_8).length + 1;
    QueryResult.Builder out = QueryResult.newBuilder();
    if (result instanceof KvResult.Got got) {
      GetResult.Builder g = GetResult.newBuilder().setFound(got.kv() != null);
      if (got.kv() != null) {
        g.setKv(kv(collection, strip, got.kv()));
      }
      out.setGet(g);
    } else if (result instanceof KvResult.Ranged ranged && query.hasFilter()) {
      FilterResult.Builder r = FilterResult.newBuilder().setMore(ranged.more());
      for (KeyValue kv : ranged.kvs()) {
        r.addKvs(kv(collection, strip, kv));
      }
      if (ranged.more() && !ranged.kvs().isEmpty()) {
        String token = query.getFilter().getContinuationToken();
        long readAt = token.isEmpty() ? revision : Continuation.decode("", token).revision();
        r.setContinuationToken(new Continuation(readAt, ranged.kvs().get(ranged.kvs().size() - 1).key()).encode());
      }
      out.setFilter(r);
    } else if (result instanceof KvResult.Updated updated) {
      out.setUpdate(UpdateResult.newBuilder().setUpdated(updated.updated()).setSkipped(updated.skipped()));
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

  static io.cairn.proto.v1.KeyValue kv(String collection, int strip, KeyValue kv) {
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

  static String collectionOf(Query q) {
    return switch (q.getKindCase()) {
      case GET -> q.getGet().getCollection();
      case SET -> q.getSet().getCollection();
      case DELETE -> q.getDelete().getCollection();
      case RANGE -> q.getRange().getCollection();
      case FILTER -> q.getFilter().getCollection();
      case UPDATE -> q.getUpdate().getCollection();
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

  byte[] bound(String field, byte[] prefix, ByteString key) {
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
  byte[] end(String field, byte[] prefix, ByteString end) {
    if (!end.isEmpty()) {
      return bound(field, prefix, end);
    }
    byte[] past = prefix.clone();
    past[past.length - 1] = SEPARATOR + 1;
    return past;
  }

  static byte[] prefix(String field, String collection) {
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
