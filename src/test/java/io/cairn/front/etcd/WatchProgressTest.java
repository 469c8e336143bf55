package io.cairn.front.etcd;

import io.cairn.TestServer;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import org.junit.jupiter.api.Test;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.cairn.front.etcd.JetcdKvTest.bs;
import static io.cairn.front.etcd.JetcdKvTest.get;
import static org.assertj.core.api.Assertions.assertThat;

/** etcd's progress notifications: periodic ones for idle watchers that asked, and ones the client requests. */
class WatchProgressTest {

  @Test
  void idleWatchersGetProgressAtTheCurrentRevisionAndRequestedProgressArrives() throws Exception {
    try (TestServer server = TestServer.start("watch.progress-interval=200ms");
         Client client = Client.builder().endpoints("http://127.0.0.1:" + server.grpcPort()).build()) {
      long revision = get(client.getKVClient().put(bs("p/k"), bs("v"), PutOption.DEFAULT)).getHeader().getRevision();
      BlockingQueue<WatchResponse> periodic = new LinkedBlockingQueue<>();
      BlockingQueue<WatchResponse> plain = new LinkedBlockingQueue<>();
      try (Watch.Watcher notified = client.getWatchClient().watch(bs("p/"),
               WatchOption.builder().isPrefix(true).withProgressNotify(true).build(), Watch.listener(periodic::add));
           Watch.Watcher quiet = client.getWatchClient().watch(bs("p/"),
               WatchOption.builder().isPrefix(true).build(), Watch.listener(plain::add))) {
        WatchResponse tick = periodic.poll(10, TimeUnit.SECONDS);
        assertThat(tick).isNotNull();
        assertThat(tick.isProgressNotify()).isTrue();
        assertThat(tick.getHeader().getRevision()).isEqualTo(revision);

        client.getWatchClient().requestProgress();
        WatchResponse requested = plain.poll(10, TimeUnit.SECONDS);
        assertThat(requested).isNotNull();
        assertThat(requested.isProgressNotify()).isTrue();
        assertThat(requested.getHeader().getRevision()).isEqualTo(revision);
      }
    }
  }
}
