//! The setup kit of the keyless kinds (docs/keyless.md): the customer
//! trusts cloudconn's issuer once, for this connection's subject and
//! cloudconn's audience, and grants the same permissions as the kinds with
//! a secret. Nothing is created that cloudconn would have to store.

use serde_json::json;

use super::{Step, Target, aws, gcp, json_artifact, resource_name, script, sh, step, yaml_artifact};

/// What a keyless kit names: the issuer the cloud fetches keys from, the
/// connection's `sub`, and (AWS) the audience.
pub struct Trust<'a> {
    pub issuer: &'a str,
    pub subject: String,
    pub aws_audience: &'a str,
}

impl Trust<'_> {
    /// The issuer without its scheme: IAM's name for the provider.
    fn host(&self) -> &str {
        self.issuer.strip_prefix("https://").or_else(|| self.issuer.strip_prefix("http://")).unwrap_or(self.issuer)
    }
}

/// AWS `web_identity`: an IAM OpenID Connect provider for the issuer, and
/// a role trusting it on `aud` and `sub`.
pub fn aws_steps(target: &Target<'_>, trust: &Trust<'_>) -> Vec<Step> {
    let host = trust.host();
    let permissions = aws::permissions_policy(target);
    let role_name = resource_name("cloudconn", target.tag, '-', 64);
    let policy_name = resource_name("cloudconn", target.tag, '-', 128);
    // The account id is the customer's: the script fills it in, and the
    // document shows where it goes.
    let trust_policy = |account: &str| {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Federated": format!("arn:aws:iam::{account}:oidc-provider/{host}") },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": { "StringEquals": {
                    format!("{host}:aud"): trust.aws_audience,
                    format!("{host}:sub"): trust.subject,
                } },
            }],
        })
    };
    let document = trust_policy("ACCOUNT_ID");
    let setup = script(
        "setup.sh",
        &[
            format!("role_name=${{1:-{}}}", sh(&role_name)),
            "account=$(aws sts get-caller-identity --query Account --output text)".to_owned(),
            "# cloudconn's issuer, once per account (an existing one is kept).".to_owned(),
            format!(
                "aws iam create-open-id-connect-provider --url {} --client-id-list {} >/dev/null 2>&1 || true",
                sh(trust.issuer),
                sh(trust.aws_audience)
            ),
            format!(
                "aws iam create-role --role-name \"$role_name\" --assume-role-policy-document \
                 \"$(printf '%s' {} | sed \"s/ACCOUNT_ID/$account/\")\" >/dev/null",
                sh(&document.to_string())
            ),
            format!(
                "aws iam put-role-policy --role-name \"$role_name\" --policy-name {} --policy-document {}",
                sh(&policy_name),
                sh(&permissions.to_string())
            ),
            "role_arn=$(aws iam get-role --role-name \"$role_name\" --query Role.Arn --output text)".to_owned(),
            format!("{} --field \"role_arn=$role_arn\" --field kind=web_identity --validate", target.save_command()),
        ],
    );
    vec![
        step(
            "Trust cloudconn's OpenID Connect issuer",
            format!(
                "Nothing secret is created or stored: each time cloudconn needs credentials it signs a five-minute \
                 token for this connection, and AWS exchanges it after checking cloudconn's published keys. In the \
                 AWS account to link, register cloudconn's issuer `{}` as an IAM OpenID Connect identity provider \
                 with the audience `{}` (once per account), and create a role whose **trust policy** allows \
                 `sts:AssumeRoleWithWebIdentity` from that provider only when the token's `aud` is that audience \
                 **and** its `sub` is this connection's subject, `{}`. Replace `ACCOUNT_ID` in the document with \
                 the account's id, or let `setup.sh` do it. Attach the **permissions policy**: exactly the actions \
                 the connection's scopes need.",
                trust.issuer, trust.aws_audience, trust.subject
            ),
            vec![json_artifact("trust-policy.json", &document), json_artifact("permissions-policy.json", &permissions)],
        ),
        step(
            "Create everything and save the role in cloudconn",
            "`setup.sh [role name]` registers the provider (if the account has none for this issuer), creates the \
             role with both policies, and saves its ARN with kind `web_identity` in cloudconn, validating the \
             connection. Validation also checks that the role refuses a token for any other connection.",
            vec![setup],
        ),
    ]
}

/// Google Cloud `workload_identity`: the service account and custom role of
/// the key kit, no key; a workload identity pool and provider trusting the
/// issuer with a condition on `sub`; the binding that lets that one subject
/// impersonate the account.
pub fn gcp_steps(target: &Target<'_>, trust: &Trust<'_>) -> Vec<Step> {
    let account = gcp::Account::of(target);
    let provider_id = resource_name("cloudconn", target.tag, '-', 32);
    let condition = format!("assertion.sub == '{}'", trust.subject);
    let mut apis = account.apis.clone();
    apis.extend(["iamcredentials.googleapis.com", "sts.googleapis.com"]);
    let mut lines = account.create_lines(&apis);
    lines.extend([
        "number=$(gcloud projects describe \"$project\" --format 'value(projectNumber)')".to_owned(),
        "gcloud iam workload-identity-pools create cloudconn --project \"$project\" --location global \
         --display-name cloudconn >/dev/null 2>&1 || true"
            .to_owned(),
        format!("provider={}", sh(&provider_id)),
        format!(
            "gcloud iam workload-identity-pools providers create-oidc \"$provider\" --project \"$project\" \
             --location global --workload-identity-pool cloudconn --issuer-uri {} \
             --attribute-mapping google.subject=assertion.sub --attribute-condition {}",
            sh(trust.issuer),
            sh(&condition)
        ),
        format!(
            "gcloud iam service-accounts add-iam-policy-binding \"$account@$project.iam.gserviceaccount.com\" \
             --project \"$project\" --role roles/iam.workloadIdentityUser --member \
             \"principal://iam.googleapis.com/projects/$number/locations/global/workloadIdentityPools/cloudconn/subject/\"{}",
            sh(&trust.subject)
        ),
        format!(
            "{} --field \"project_id=$project\" --field kind=workload_identity --field \
             \"workload_identity_provider=projects/$number/locations/global/workloadIdentityPools/cloudconn/providers/$provider\" \
             --field \"service_account_email=$account@$project.iam.gserviceaccount.com\" --validate",
            target.save_command()
        ),
    ]);
    vec![step(
        "Create the service account and trust cloudconn's issuer for this connection",
        format!(
            "No key is created: cloudconn signs a five-minute token for this connection, Google's STS exchanges \
             it, and the service account is impersonated for each use. `setup.sh [project id]` enables the APIs \
             ({}), creates the service account `{}` and a custom role `{}` from `custom-role.yaml` with exactly the \
             permissions the connection's scopes need, a workload identity pool `cloudconn` and in it an OpenID \
             Connect provider `{provider_id}` for the issuer `{}` whose attribute condition admits only this \
             connection (`{condition}`), lets that one subject impersonate the service account \
             (`roles/iam.workloadIdentityUser`), and saves it all in cloudconn with kind `workload_identity`, \
             validating the connection.",
            apis.join(", "),
            account.name,
            account.role_id,
            trust.issuer
        ),
        vec![yaml_artifact("custom-role.yaml", account.role_yaml.clone()), script("setup.sh", &lines)],
    )]
}

/// Azure `federated`: the app registration and custom role of the secret
/// kit, no secret; a federated identity credential for the issuer, this
/// connection's subject exactly (Entra allows no wildcard) and Azure's
/// token-exchange audience.
pub fn azure_steps(target: &Target<'_>, trust: &Trust<'_>) -> Vec<Step> {
    let (role, role_name, app_name, subscription) = super::azure::role(target);
    let credential = json!({
        "name": resource_name("cloudconn", target.tag, '-', 120),
        "issuer": trust.issuer,
        "subject": trust.subject,
        "audiences": [cloudconn_infra::oidc::AZURE_AUDIENCE],
        "description": format!("cloudconn connection {}", target.tag),
    });
    let mut lines = super::azure::app_lines(&role_name, &app_name, &subscription);
    lines.extend([
        "az ad app federated-credential create --id \"$app_id\" --parameters federated-credential.json >/dev/null"
            .to_owned(),
        "tenant=$(az account show --subscription \"$subscription\" --query tenantId --output tsv)".to_owned(),
        format!(
            "{} --field \"tenant_id=$tenant\" --field \"subscription_id=$subscription\" \
                 --field \"client_id=$app_id\" --field kind=federated --validate",
            target.save_command()
        ),
    ]);
    let setup = script("setup.sh", &lines);
    vec![
        step(
            "Define a role with exactly the actions cloudconn checks, and the federated credential",
            format!(
                "No client secret is created: cloudconn signs a five-minute token for this connection and Entra ID \
                 accepts it as the app's credential. `custom-role.json` holds exactly the actions the connection's \
                 scopes need; `federated-credential.json` trusts the issuer `{}` for the subject `{}` (this \
                 connection, exactly) and the audience `{}`.",
                trust.issuer,
                trust.subject,
                cloudconn_infra::oidc::AZURE_AUDIENCE
            ),
            vec![json_artifact("custom-role.json", &role), json_artifact("federated-credential.json", &credential)],
        ),
        step(
            "Register the app, assign the role, trust cloudconn, save",
            "`setup.sh [subscription id]` registers the app and its service principal, creates the role and \
             assigns it on the subscription, adds the federated credential, and saves the identifiers with kind \
             `federated` in cloudconn, validating the connection. There is no secret to rotate.",
            vec![setup],
        ),
    ]
}
