//! Google Cloud: a service account with a custom role holding exactly the
//! scopes' permissions on the project, the APIs the probe and the scopes
//! use, and a key.

use super::{Step, Target, resource_name, script, sh, step, yaml_artifact, yaml_str};

/// The API each scope's services need, beside Cloud Resource Manager.
fn api(scope: &str) -> Option<&'static str> {
    match scope {
        "storage" => Some("storage.googleapis.com"),
        "database" => Some("sqladmin.googleapis.com"),
        "messaging" => Some("pubsub.googleapis.com"),
        "functions" => Some("cloudfunctions.googleapis.com"),
        _ => None,
    }
}

/// The service account both kinds use, with a custom role of exactly the
/// scopes' permissions on the project.
pub struct Account {
    /// The service account's id: 6–30 lower-case letters, digits, hyphens.
    pub name: String,
    /// The custom role's id: letters, digits, underscores.
    pub role_id: String,
    pub role_yaml: String,
    /// The APIs the probe and the scopes use.
    pub apis: Vec<&'static str>,
    project: String,
    tag: String,
}

impl Account {
    pub fn of(target: &Target<'_>) -> Self {
        let base = cloudconn_infra::permissions::base("gcp");
        let mut permissions: Vec<&str> = base.to_vec();
        let mut apis = vec!["cloudresourcemanager.googleapis.com"];
        for (scope, needed) in target.scope_permissions() {
            permissions.extend(needed.iter().filter(|p| !permissions.contains(p)).collect::<Vec<_>>());
            apis.extend(api(scope));
        }
        let mut role_yaml = format!(
            "title: {}\ndescription: {}\nstage: GA\nincludedPermissions:\n",
            yaml_str(&format!("cloudconn {}", target.tag)),
            yaml_str("What cloudconn validates for this connection, nothing more"),
        );
        for permission in &permissions {
            role_yaml.push_str(&format!("  - {}\n", yaml_str(permission)));
        }
        Self {
            name: resource_name("cloudconn", target.tag, '-', 30),
            role_id: resource_name("cloudconn", target.tag, '_', 64),
            role_yaml,
            apis,
            project: target.saved("project_id").unwrap_or("my-project").to_owned(),
            tag: target.tag.to_owned(),
        }
    }

    /// The script lines that enable `apis` and create the account, the role
    /// and its binding on the project (`$project`, `$account`, `$role`).
    pub fn create_lines(&self, apis: &[&str]) -> Vec<String> {
        vec![
            format!("project=${{1:-{}}}", sh(&self.project)),
            format!("account={}", sh(&self.name)),
            format!("role={}", sh(&self.role_id)),
            format!(
                "gcloud services enable {} --project \"$project\"",
                apis.iter().map(|a| sh(a)).collect::<Vec<_>>().join(" ")
            ),
            format!(
                "gcloud iam service-accounts create \"$account\" --project \"$project\" --display-name {}",
                sh(&format!("cloudconn {}", self.tag))
            ),
            "gcloud iam roles create \"$role\" --project \"$project\" --file custom-role.yaml".to_owned(),
            "gcloud projects add-iam-policy-binding \"$project\" \
             --member \"serviceAccount:$account@$project.iam.gserviceaccount.com\" \
             --role \"projects/$project/roles/$role\" --condition None"
                .to_owned(),
        ]
    }
}

pub fn steps(target: &Target<'_>) -> Vec<Step> {
    let created = Account::of(target);
    let (account, role_id, role, apis) = (&created.name, &created.role_id, created.role_yaml.clone(), &created.apis);
    let project = created.project.as_str();
    let mut lines = created.create_lines(apis);
    lines.push(
        "gcloud iam service-accounts keys create key.json \
         --iam-account \"$account@$project.iam.gserviceaccount.com\""
            .to_owned(),
    );
    let setup = script("setup.sh", &lines);
    let save = script(
        "save.sh",
        &[
            format!("project=${{1:-{}}}", sh(project)),
            "# The key goes to cloudconn on stdin, never on the command line; then delete the file.".to_owned(),
            format!(
                "printf '{{\"service_account_json\": %s}}' \"$(cat key.json)\" | \
                 {} --field \"project_id=$project\" --from-file - --validate",
                target.save_command()
            ),
            "rm -f key.json".to_owned(),
        ],
    );
    vec![
        step(
            "Create a service account with exactly the permissions cloudconn checks",
            format!(
                "`setup.sh [project id]` enables the APIs ({}), creates the service account `{account}`, a custom \
                 role `{role_id}` from `custom-role.yaml` with exactly the permissions the connection's scopes need \
                 (what validation checks), binds it on the project, and creates a key in `key.json`. The predefined \
                 Viewer role (`roles/viewer`) would also pass validation, but grants far more than this.",
                apis.join(", ")
            ),
            vec![yaml_artifact("custom-role.yaml", role), setup],
        ),
        step(
            "Save the key in cloudconn, then delete it",
            "`save.sh [project id]` sends the key to cloudconn on stdin and validates the connection. The key is a \
             long-lived secret: cloudconn keeps it in Vault; do not keep the file, mail it or commit it. Rotate it \
             by creating a new key, saving it, and deleting the old one in the console.",
            vec![save],
        ),
    ]
}
