//! MongoDB Atlas and Neo4j Aura grant roles to API keys in their consoles;
//! the kit says which, and (Atlas) which addresses to allow.

use serde_json::json;

use super::{Step, Target, json_artifact, script, step};

pub fn atlas_steps(target: &Target<'_>, egress: &[String]) -> Vec<Step> {
    let access_list: Vec<serde_json::Value> = egress
        .iter()
        .map(|address| {
            let key = if address.contains('/') { "cidrBlock" } else { "ipAddress" };
            json!({ key: address, "comment": "cloudconn workers" })
        })
        .collect();
    let addresses = if egress.is_empty() {
        "This cloudconn deployment has not published its workers' addresses (`CLOUDCONN_EGRESS_ADDRESSES`): ask \
         its operators which addresses to allow."
            .to_owned()
    } else {
        format!(
            "Add the workers' addresses to the key's **API Access List**: {} (also in `access-list.json`, the \
             body the Atlas Administration API takes).",
            egress.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
        )
    };
    let save = script(
        "save.sh",
        &[
            "public_key=${1:?usage: save.sh <public key> <project id>}".to_owned(),
            "project=${2:?usage: save.sh <public key> <project id>}".to_owned(),
            "# The CLI asks for the private key without echoing it.".to_owned(),
            format!(
                "{} --field \"project_id=$project\" --field \"atlas_public_key=$public_key\" --validate",
                target.save_command()
            ),
        ],
    );
    let mut artifacts = Vec::new();
    if !access_list.is_empty() {
        artifacts.push(json_artifact("access-list.json", &serde_json::Value::Array(access_list)));
    }
    vec![
        step(
            "Create a programmatic API key for the project",
            "In Atlas: Project → Access Manager → API Keys → Create API Key, with the **Project Read Only** role \
             (`GROUP_READ_ONLY`), which is enough to validate every scope cloudconn offers for Atlas, and the \
             **Project Database Access Admin** role (`GROUP_DATABASE_ACCESS_ADMIN`), with which cloudconn gives \
             components temporary database users (IssueCredentials; without it validation passes but issuing \
             fails with ACCESS_DENIED naming the role). Copy the private key when it is shown; Atlas shows it once.",
            vec![],
        ),
        step("Allow cloudconn's workers to use the key", addresses, artifacts),
        step(
            "Save the key in cloudconn",
            "`save.sh <public key> <project id>` asks for the private key without echoing it and saves the key, \
             validating the connection.",
            vec![save],
        ),
    ]
}

pub fn aura_steps(target: &Target<'_>) -> Vec<Step> {
    let save = script(
        "save.sh",
        &[
            "client_id=${1:?usage: save.sh <client id>}".to_owned(),
            "# The CLI asks for the client secret without echoing it.".to_owned(),
            format!("{} --field \"aura_client_id=$client_id\" --validate", target.save_command()),
        ],
    );
    vec![
        step(
            "Create API credentials as a member of the tenant",
            "In the Aura console, as a user who is a member of the tenant (project) to link: Account settings → \
             API credentials → Create. The credentials act as that user, so the user's role in the tenant is what \
             cloudconn may do; listing instances (what validation checks) needs membership only. Copy the client \
             secret when it is shown.",
            vec![],
        ),
        step(
            "Save the credentials in cloudconn",
            "`save.sh <client id>` asks for the secret without echoing it and saves the credentials, validating \
             the connection.",
            vec![save],
        ),
    ]
}
