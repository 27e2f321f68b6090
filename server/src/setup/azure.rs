//! Azure: an app registration (service principal) with a client secret,
//! and a custom role on the subscription holding exactly the scopes'
//! actions.

use serde_json::json;

use super::{Step, Target, json_artifact, resource_name, script, sh, step};

/// The custom role both kinds assign, its name, the app's name and the
/// subscription (saved, or a placeholder the script takes as `$1`).
pub fn role(target: &Target<'_>) -> (serde_json::Value, String, String, String) {
    let mut actions: Vec<&str> = cloudconn_infra::permissions::base("azure").to_vec();
    for (_, needed) in target.scope_permissions() {
        actions.extend(needed.iter().filter(|a| !actions.contains(a)).collect::<Vec<_>>());
    }
    let subscription = target.saved("subscription_id").unwrap_or("00000000-0000-0000-0000-000000000000");
    let role_name = format!("cloudconn {}", target.tag);
    let app_name = resource_name("cloudconn", target.tag, '-', 120);
    let role = json!({
        "Name": role_name,
        "IsCustom": true,
        "Description": "What cloudconn validates for this connection, nothing more",
        "Actions": actions,
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": [format!("/subscriptions/{subscription}")],
    });
    (role, role_name, app_name, subscription.to_owned())
}

/// The script lines both kinds start with: the app registration and its
/// service principal, the custom role assigned on the subscription
/// (`$subscription`, `$app_id`).
pub fn app_lines(role_name: &str, app_name: &str, subscription: &str) -> Vec<String> {
    vec![
        format!("subscription=${{1:-{}}}", sh(subscription)),
        format!("app_id=$(az ad app create --display-name {} --query appId --output tsv)", sh(app_name)),
        "az ad sp create --id \"$app_id\" >/dev/null".to_owned(),
        "az role definition create --role-definition custom-role.json >/dev/null".to_owned(),
        format!(
            "az role assignment create --assignee \"$app_id\" --role {} --scope \"/subscriptions/$subscription\"",
            sh(role_name)
        ),
    ]
}

pub fn steps(target: &Target<'_>) -> Vec<Step> {
    let (role, role_name, app_name, subscription) = role(target);
    let mut lines = app_lines(&role_name, &app_name, &subscription);
    lines.extend([
        "tenant=$(az account show --subscription \"$subscription\" --query tenantId --output tsv)".to_owned(),
        "# A secret valid for one year, sent to cloudconn on stdin, never echoed.".to_owned(),
        "secret=$(az ad app credential reset --id \"$app_id\" --years 1 --query password --output tsv)".to_owned(),
        format!(
            "printf '{{\"client_secret\": \"%s\"}}' \"$secret\" | {} --field \"tenant_id=$tenant\" \
                 --field \"subscription_id=$subscription\" --field \"client_id=$app_id\" --from-file - --validate",
            target.save_command()
        ),
    ]);
    let setup = script("setup.sh", &lines);
    vec![
        step(
            "Define a role with exactly the actions cloudconn checks",
            "`custom-role.json` is a custom role assignable on the subscription, with exactly the actions the \
             connection's scopes need (what validation checks). The built-in Reader role would also pass \
             validation, but can read everything in the subscription.",
            vec![json_artifact("custom-role.json", &role)],
        ),
        step(
            "Register the app, assign the role, save the secret",
            "`setup.sh [subscription id]` registers the app and its service principal, creates the role and \
             assigns it on the subscription, creates a client secret that expires in one year, and saves \
             everything in cloudconn (the secret on stdin), validating the connection. Before the secret \
             expires, run `az ad app credential reset` again and save the new one.",
            vec![setup],
        ),
    ]
}
