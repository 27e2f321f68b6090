// AWS SDK for JavaScript v3: `new S3Client({ region, credentials })`.

import type { CredentialRefresher } from "./refresh.js";
import { describeAs, wrongProvider } from "./refresh.js";

/** What an AWS SDK v3 client takes as `credentials` (`AwsCredentialIdentity` of @smithy/types, structurally). */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When they stop working; the AWS SDK asks its provider again within 5 minutes of it. */
  readonly expiration?: Date;
}

/** `AwsCredentialIdentityProvider` of @smithy/types; the identity properties the SDK may pass are not needed. */
export type AwsCredentialIdentityProvider = (identityProperties?: Record<string, unknown>) => Promise<AwsCredentialIdentity>;

export function awsProvider(holder: CredentialRefresher, label: string): AwsCredentialIdentityProvider {
  const provider: AwsCredentialIdentityProvider = async () => {
    const { issued, expiresAt } = await holder.get();
    const aws = issued.aws;
    if (!aws) {
      throw wrongProvider(label, "aws", issued.provider);
    }
    return {
      accessKeyId: aws.accessKeyId,
      secretAccessKey: aws.secretAccessKey,
      sessionToken: aws.sessionToken,
      expiration: new Date(expiresAt),
    };
  };
  return describeAs(provider, `[AWS credentials provider ${label}]`);
}
