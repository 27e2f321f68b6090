package dev.cloudconn.sdk;

/**
 * listConnections' filters: null = any. {@code pageSize} is the server's page_size (0 means 50,
 * at most 1000); every page is fetched either way.
 */
public record ListOptions(String provider, String status, int pageSize) {

  public static ListOptions all() {
    return new ListOptions(null, null, 0);
  }

  public ListOptions withProvider(String v) {
    return new ListOptions(v, status, pageSize);
  }

  public ListOptions withStatus(String v) {
    return new ListOptions(provider, v, pageSize);
  }

  public ListOptions withPageSize(int v) {
    return new ListOptions(provider, status, v);
  }
}
