//! AWS: a role in the customer's account that cloudconn's principal may
//! assume with this connection's external id, allowed exactly the scopes'
//! actions. Three ways to make it (JSON documents for the console, a
//! CloudFormation template, `aws` CLI commands), then saving its ARN.

use serde_json::json;

use super::{Step, Target, json_artifact, resource_name, script, sh, step, yaml_artifact, yaml_flow, yaml_str};

/// The trust policy: only `principal`, only with this external id.
pub fn trust_policy(principal: &str, external_id: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": principal },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": external_id } },
        }],
    })
}

/// The permissions policy: one statement per scope, its actions only.
pub fn permissions_policy(target: &Target<'_>) -> serde_json::Value {
    let statements: Vec<serde_json::Value> = target
        .scope_permissions()
        .into_iter()
        .map(|(scope, actions)| {
            json!({ "Sid": statement_id(scope), "Effect": "Allow", "Action": actions, "Resource": "*" })
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// `storage` → `CloudconnStorage` (a Sid is alphanumeric).
fn statement_id(scope: &str) -> String {
    let mut chars = scope.chars().filter(char::is_ascii_alphanumeric);
    let first = chars.next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default();
    format!("Cloudconn{first}{}", chars.collect::<String>())
}

pub fn steps(target: &Target<'_>, principal: &str) -> Vec<Step> {
    let external_id = target.external_id.unwrap_or_default();
    let trust = trust_policy(principal, external_id);
    let permissions = permissions_policy(target);
    let role_name = resource_name("cloudconn", target.tag, '-', 64);
    let policy_name = resource_name("cloudconn", target.tag, '-', 128);
    let stack_name = resource_name("cloudconn", target.tag, '-', 128);

    let template = format!(
        "AWSTemplateFormatVersion: \"2010-09-09\"\n\
         Description: {description}\n\
         Parameters:\n  RoleName:\n    Type: String\n    Default: {role}\n\
         Resources:\n  CloudconnRole:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Ref RoleName\n\
         \x20     AssumeRolePolicyDocument: {trust}\n\
         \x20     Policies:\n        - PolicyName: {policy}\n          PolicyDocument: {permissions}\n\
         Outputs:\n  RoleArn:\n    Value: !GetAtt CloudconnRole.Arn\n",
        description = yaml_str(&format!("The role cloudconn assumes for the connection {}", target.tag)),
        role = yaml_str(&role_name),
        trust = yaml_flow(&trust),
        policy = yaml_str(&policy_name),
        permissions = yaml_flow(&permissions),
    );
    let deploy = script(
        "deploy-stack.sh",
        &[
            format!("role_name=${{1:-{}}}", sh(&role_name)),
            format!(
                "aws cloudformation deploy --stack-name {} --template-file cloudformation.yaml \
                 --capabilities CAPABILITY_NAMED_IAM --parameter-overrides \"RoleName=$role_name\"",
                sh(&stack_name)
            ),
            format!(
                "aws cloudformation describe-stacks --stack-name {} \
                 --query \"Stacks[0].Outputs[?OutputKey=='RoleArn'].OutputValue\" --output text",
                sh(&stack_name)
            ),
        ],
    );
    let cli = script(
        "create-role.sh",
        &[
            format!("role_name=${{1:-{}}}", sh(&role_name)),
            format!(
                "aws iam create-role --role-name \"$role_name\" --assume-role-policy-document {}",
                sh(&trust.to_string())
            ),
            format!(
                "aws iam put-role-policy --role-name \"$role_name\" --policy-name {} --policy-document {}",
                sh(&policy_name),
                sh(&permissions.to_string())
            ),
            "aws iam get-role --role-name \"$role_name\" --query Role.Arn --output text".to_owned(),
        ],
    );
    let save = script(
        "save.sh",
        &[
            "role_arn=${1:?usage: save.sh <the role ARN>}".to_owned(),
            format!("{} --field \"role_arn=$role_arn\" --validate", target.save_command()),
        ],
    );

    vec![
        step(
            "Create the role cloudconn assumes",
            format!(
                "In the AWS account to link, create an IAM role whose **trust policy** lets cloudconn's principal \
                 (`{principal}`) assume it only with this connection's external id (`{external_id}`): that \
                 condition is what stops anyone else who learns the role's ARN from linking it through cloudconn. \
                 Attach the **permissions policy**: exactly the actions the connection's scopes need, which is what \
                 validation checks. Use these documents in the console (IAM → Roles → Create role → Custom trust \
                 policy), or one of the next two steps."
            ),
            vec![json_artifact("trust-policy.json", &trust), json_artifact("permissions-policy.json", &permissions)],
        ),
        step(
            "Or: create it with CloudFormation",
            "The template creates the same role and policy; `deploy-stack.sh [role name]` deploys it and prints \
             the role's ARN.",
            vec![yaml_artifact("cloudformation.yaml", template), deploy],
        ),
        step(
            "Or: create it with the AWS CLI",
            "`create-role.sh [role name]` creates the role with both policies and prints its ARN.",
            vec![cli],
        ),
        step(
            "Save the role's ARN in cloudconn",
            "`save.sh <role ARN>` saves it and validates the connection (the `cloudconn` CLI, configured for \
             this server). A validation that fails names what is missing.",
            vec![save],
        ),
    ]
}
