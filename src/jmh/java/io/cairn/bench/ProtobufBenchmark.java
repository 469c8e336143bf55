package io.cairn.bench;

import com.google.protobuf.ByteString;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.RangeResponse;
import io.cairn.proto.etcd.ResponseHeader;
import io.cairn.proto.etcd.mvcc.KeyValue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** etcd messages on the hot path: a Put request decoded, a 100-key Range response encoded and decoded. */
@State(Scope.Benchmark)
public class ProtobufBenchmark {

  private byte[] putBytes;
  private byte[] rangeBytes;
  private KeyValue[] kvs;

  @Setup
  public void prepare() {
    putBytes = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("bench/key"))
        .setValue(ByteString.copyFrom(new byte[100])).build().toByteArray();
    kvs = new KeyValue[100];
    for (int i = 0; i < kvs.length; i++) {
      kvs[i] = KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("bench/p/" + i))
          .setValue(ByteString.copyFrom(new byte[100])).setCreateRevision(i + 1).setModRevision(i + 1)
          .setVersion(1).build();
    }
    rangeBytes = encodeRange100();
  }

  @Benchmark
  public Object decodePut() throws Exception {
    return PutRequest.parseFrom(putBytes);
  }

  @Benchmark
  public byte[] encodeRange100() {
    RangeResponse.Builder b = RangeResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setClusterId(1).setMemberId(2).setRevision(1000).setRaftTerm(1))
        .setCount(100);
    for (KeyValue kv : kvs) {
      b.addKvs(kv);
    }
    return b.build().toByteArray();
  }

  @Benchmark
  public Object decodeRange100() throws Exception {
    return RangeResponse.parseFrom(rangeBytes);
  }
}
