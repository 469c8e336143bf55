package io.cairn;

import com.google.protobuf.ByteString;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.DeleteQuery;
import io.cairn.proto.v1.GetQuery;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.RangeQuery;
import io.cairn.proto.v1.SetQuery;

import java.nio.charset.StandardCharsets;

/** Short builders for native queries in tests. */
public final class Queries {

  private Queries() {}

  public static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  public static Query set(String collection, String key, String value) {
    return Query.newBuilder().setSet(SetQuery.newBuilder().setCollection(collection).setKey(bytes(key))
        .setValue(bytes(value))).build();
  }

  public static Query get(String collection, String key) {
    return Query.newBuilder().setGet(GetQuery.newBuilder().setCollection(collection).setKey(bytes(key))).build();
  }

  public static Query delete(String collection, String key) {
    return Query.newBuilder().setDelete(DeleteQuery.newBuilder().setCollection(collection).setKey(bytes(key)))
        .build();
  }

  public static Query deleteRange(String collection, String start, String end) {
    return Query.newBuilder().setDelete(DeleteQuery.newBuilder().setCollection(collection).setKey(bytes(start))
        .setEnd(bytes(end))).build();
  }

  public static Query range(String collection, String start, String end, int limit) {
    return Query.newBuilder().setRange(RangeQuery.newBuilder().setCollection(collection).setStart(bytes(start))
        .setEnd(bytes(end)).setLimit(limit)).build();
  }

  public static QueryRequest request(Query query) {
    return QueryRequest.newBuilder().setQuery(query).build();
  }

  public static BatchRequest batch(Query... queries) {
    BatchRequest.Builder b = BatchRequest.newBuilder();
    for (Query q : queries) {
      b.addQueries(q);
    }
    return b.build();
  }
}
