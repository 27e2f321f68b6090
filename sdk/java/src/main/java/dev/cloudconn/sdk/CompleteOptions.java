package dev.cloudconn.sdk;

/**
 * completeConnection's options.
 *
 * @param validate also start a validation of the new revision (validateConnection waits for it)
 * @param etag fail with ABORTED / ETAG_MISMATCH unless the connection's etag is still this; null or
 *     "" = unconditional
 */
public record CompleteOptions(boolean validate, String etag) {

  public static CompleteOptions none() {
    return new CompleteOptions(false, null);
  }

  public CompleteOptions withValidate() {
    return new CompleteOptions(true, etag);
  }

  public CompleteOptions withEtag(String v) {
    return new CompleteOptions(validate, v);
  }
}
