package dev.cloudconn.sdk;

import java.time.Duration;

/**
 * issueCredentials' input.
 *
 * @param scope one of the connection's scopes
 * @param consumer who will use them, e.g. "billing-api/prd": audited
 * @param ttl null or zero means the server's default (15 minutes)
 */
public record IssueInput(String scope, String consumer, Duration ttl) {}
