package dev.cloudconn.sdk;

import java.time.Instant;

/**
 * One lifecycle event from a watch.
 *
 * @param id stable per event: de-duplicate on it
 * @param type {@code cloudconn.connection.<event>.v1}, e.g. cloudconn.connection.updated.v1
 * @param connection the connection after the change (for deleted, as it was)
 */
public record ConnectionEvent(String id, String type, Instant time, Connection connection) {}
