package dev.cloudconn.sdk;

import dev.cloudconn.v1.ConnectionServiceGrpc;
import dev.cloudconn.v1.WatchConnectionsRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A live stream of lifecycle events: iterate it ({@code hasNext} blocks until the next event or the
 * end), and close it to end it early.
 *
 * <pre>{@code
 * try (ConnectionWatch watch = cloudconn.cloudService().watchConnections("prod_aws")) {
 *   while (watch.hasNext()) { ConnectionEvent e = watch.next(); … }
 * }
 * }</pre>
 *
 * <p>The stream is a raw ClientCall (not a blocking stub) because the server's headers are what say
 * it has joined the stream, and the blocking iterator does not expose them.
 */
public final class ConnectionWatch implements Iterator<ConnectionEvent>, AutoCloseable {
  /** What the listener hands the iterator: an event, or the end. */
  private sealed interface Item permits Event, End {}

  private record Event(dev.cloudconn.v1.ConnectionEvent event) implements Item {}

  private record End(Status status) implements Item {}

  private final ClientCall<WatchConnectionsRequest, dev.cloudconn.v1.ConnectionEvent> call;
  private final BlockingQueue<Item> items = new LinkedBlockingQueue<>();
  private volatile boolean closed;
  private volatile Metadata trailers;
  private Item head;

  private ConnectionWatch(Channel channel) {
    this.call = channel.newCall(ConnectionServiceGrpc.getWatchConnectionsMethod(), CallOptions.DEFAULT);
  }

  static ConnectionWatch start(Channel channel, String workspace, String tag) {
    ConnectionWatch w = new ConnectionWatch(channel);
    CompletableFuture<Status> joined = new CompletableFuture<>();
    w.call.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata headers) {
        joined.complete(Status.OK);
      }

      @Override
      public void onMessage(dev.cloudconn.v1.ConnectionEvent message) {
        w.items.add(new Event(message));
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        w.trailers = trailers;
        w.items.add(new End(status));
        joined.complete(status); // a refusal comes as trailers only: start() throws it
      }
    }, new Metadata());
    w.call.sendMessage(WatchConnectionsRequest.newBuilder().setWorkspace(workspace).setTag(tag).build());
    w.call.halfClose();
    w.call.request(1);
    Status status;
    try {
      status = joined.get();
    } catch (InterruptedException e) {
      w.close();
      Thread.currentThread().interrupt();
      throw CloudConnException.from(Status.CANCELLED.withCause(e).asRuntimeException());
    } catch (ExecutionException e) {
      throw CloudConnException.from(e.getCause());
    }
    if (!status.isOk()) {
      throw CloudConnException.from(status.asRuntimeException(w.trailers));
    }
    return w;
  }

  /** Blocks until the next event (true) or the end of the stream (false). */
  @Override
  public boolean hasNext() {
    if (head == null && !closed) {
      try {
        head = items.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw CloudConnException.from(Status.CANCELLED.withCause(e).asRuntimeException());
      }
    }
    if (head instanceof End end) {
      if (!end.status().isOk() && !closed) {
        throw CloudConnException.from(end.status().asRuntimeException(trailers));
      }
      return false;
    }
    return head != null && !closed;
  }

  /** The next event; throws CloudConnException when the stream failed. */
  @Override
  public ConnectionEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the watch has ended");
    }
    var event = ((Event) head).event();
    head = null;
    call.request(1);
    return Convert.event(event);
  }

  /** Ends the stream; hasNext() then returns false. */
  @Override
  public void close() {
    closed = true;
    call.cancel("closed by the client", null);
    items.add(new End(Status.CANCELLED));
  }
}
