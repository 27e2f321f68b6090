package dev.cloudconn.sdk;

/** What validateConnection returns: the validation, and the connection after it. */
public record ValidationResult(Validation validation, Connection connection) {}
