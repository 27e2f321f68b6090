//! Entra ID's token endpoint (client credentials, client secret in the
//! form body) and the parts of Azure Resource Manager the probe reads.
//! Refusals carry the same AADSTS codes and HTTP statuses as Entra ID.
//!
//! Tokens are for one resource, as Entra ID's: the client asks for
//! `<resource>/.default` (Resource Manager, Storage, Service Bus, SQL
//! Database) and gets a JWT whose `aud` is that resource; ARM refuses a
//! token for another audience (401 `InvalidAuthenticationTokenAudience`).
//! The JWTs are signed with a key of the emulator's own (clients only read
//! them); [`Azure::audience_of`] says what audience a token it issued has.
//!
//! Microsoft Graph's application list answers with an app's password
//! credentials (their `hint` and `endDateTime`, as Graph gives them), to a
//! Graph token of an app that holds `Application.Read.All`.
//!
//! In the sandbox ([`Azure::sandbox`]) every tenant and client id exists
//! and the client secret steers ([`Magic`]): any other secret is accepted.
//!
//! Keyless apps present a `client_assertion` (cloudconn's token) instead of
//! a secret, checked against the app's federated identity credentials
//! ([`federated`]); the token issued is the same kind.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;

use crate::{Call, Issued, magic::Magic};

mod federated;
pub use federated::DEFAULT_AUDIENCE;

/// An app registration (service principal) in a tenant.
#[derive(Clone, Default)]
pub struct App {
    pub tenant: String,
    pub secret: String,
    pub secret_expired: bool,
    /// Subscriptions it has a role on (`*`: every one, in the sandbox).
    pub subscriptions: Vec<String>,
    /// Its effective permissions: (actions, notActions) per role assignment.
    pub permissions: Vec<(Vec<String>, Vec<String>)>,
    /// It holds Graph's `Application.Read.All`: it may read its own
    /// registration, the secret's end date included.
    pub reads_applications: bool,
    /// When `secret` ends (`None`: two years on, Entra ID's longest).
    pub secret_end_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Its client id (filled in when a token is issued).
    pub client_id: String,
}

pub struct Azure {
    /// Client id → app.
    pub apps: HashMap<String, App>,
    pub tenants: Vec<String>,
    /// Subscription id → (display name, state).
    pub subscriptions: HashMap<String, (String, String)>,
    /// Issued token → the app it was issued to, and its audience.
    tokens: Mutex<Issued<(App, String)>>,
    /// Signs the tokens' JWTs (random per emulator).
    signing_key: String,
    /// Apps are made up from the secret presented ([`sandbox_app`]).
    sandbox: bool,
    /// Client ids whose secret was deleted since ([`Azure::revoke_secret`]).
    revoked: Mutex<std::collections::HashSet<String>>,
    /// Apps' federated identity credentials (keyless).
    federated: federated::Credentials,
}

impl Azure {
    pub fn new(
        apps: HashMap<String, App>,
        tenants: Vec<String>,
        subscriptions: HashMap<String, (String, String)>,
    ) -> Self {
        Self { apps, tenants, subscriptions, ..Self::default() }
    }

    /// The sandbox: every tenant, app and subscription exists; the client
    /// secret says how the app behaves.
    pub fn sandbox() -> Self {
        Self { sandbox: true, ..Self::default() }
    }

    /// The customer deletes app `client_id`'s client secret: from now on the
    /// token endpoint refuses it, as Entra ID refuses a deleted secret.
    pub fn revoke_secret(&self, client_id: &str) {
        self.revoked.lock().unwrap_or_else(|e| e.into_inner()).insert(client_id.to_owned());
    }

    /// The audience (`aud`) of a token this emulator issued; `None` for one
    /// it did not issue (or forgot).
    pub fn audience_of(&self, access_token: &str) -> Option<String> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(access_token).map(|(_, aud)| aud.clone())
    }
}

impl Default for Azure {
    fn default() -> Self {
        Self {
            apps: HashMap::new(),
            tenants: Vec::new(),
            subscriptions: HashMap::new(),
            tokens: Mutex::default(),
            signing_key: crate::random_token(),
            sandbox: false,
            revoked: Mutex::default(),
            federated: federated::Credentials::default(),
        }
    }
}

/// Resource Manager's audience.
const ARM: &str = "https://management.azure.com";

/// Microsoft Graph's audience.
const GRAPH: &str = "https://graph.microsoft.com";

/// The resources a token may be asked for (`<resource>/.default`).
pub const RESOURCES: [&str; 5] =
    [ARM, "https://storage.azure.com", "https://servicebus.azure.net", "https://database.windows.net", GRAPH];

/// The app a sandbox secret stands for.
fn sandbox_app(tenant: &str, secret: &str) -> App {
    sandbox_app_of(tenant, secret, Magic::of(secret))
}

/// The app a sandbox value stands for, `secret` its client secret.
fn sandbox_app_of(tenant: &str, secret: &str, magic: Magic) -> App {
    App {
        tenant: tenant.to_owned(),
        // Any secret but the wrong one is the app's own.
        secret: if magic == Magic::WrongSecret { crate::random_token() } else { secret.to_owned() },
        secret_expired: false,
        subscriptions: if magic == Magic::NotFound { Vec::new() } else { vec!["*".into()] },
        permissions: if magic == Magic::Denied {
            vec![(vec!["Microsoft.Resources/subscriptions/read".into()], Vec::new())]
        } else {
            vec![(vec!["*".into()], Vec::new())]
        },
        reads_applications: true,
        secret_end_time: (magic == Magic::Expiring).then(crate::magic::expiring_date),
        client_id: String::new(),
    }
}

/// The emulator's routes; `azure` may be shared (`Arc<Azure>`) to look at
/// the tokens it issued.
pub fn router(azure: impl Into<Arc<Azure>>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/subscriptions/{id}", get(subscription))
        .route("/subscriptions/{id}/providers/Microsoft.Authorization/permissions", get(permissions))
        .route("/v1.0/applications", get(applications))
        .with_state(azure.into())
}

/// The calls the probe makes, in order, for fault injection.
pub const CALLS: [Call; 3] = [
    Call { name: "azure token", matches: |_, path| path.ends_with("/oauth2/v2.0/token") },
    Call {
        name: "azure subscription",
        matches: |_, path| path.strip_prefix("/subscriptions/").is_some_and(|id| !id.contains('/')),
    },
    Call {
        name: "azure permissions",
        matches: |_, path| path.ends_with("/providers/Microsoft.Authorization/permissions"),
    },
];

/// The call for the client secret's end date, after all of [`CALLS`] (and
/// a second token request, for Graph). Best effort: whatever it answers,
/// the validation's outcome is the same.
pub const EXPIRY_CALL: Call = Call { name: "azure graph application", matches: |_, path| path == "/v1.0/applications" };

/// The calls minting makes: the token request.
pub const MINT_CALLS: [Call; 1] = [CALLS[0]];

fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let description = format!("AADSTS{code}: {text} Trace ID: 00000000-0000-0000-0000-000000000000");
    (status, Json(json!({ "error": error, "error_description": description, "error_codes": [code] }))).into_response()
}

async fn token(
    State(azure): State<Arc<Azure>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    if f("grant_type") != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if form.contains_key("client_assertion_type") || form.contains_key("client_assertion") {
        return federated::token(&azure, &tenant, &form).await;
    }
    if azure.sandbox
        && let Some(outage) = Magic::of(&f("client_secret")).outage()
    {
        return outage;
    }
    if !azure.sandbox && !azure.tenants.contains(&tenant) {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found."));
    }
    let audience = match resource(&f("scope")) {
        Ok(audience) => audience,
        Err(refused) => return refused,
    };
    let app = if azure.sandbox {
        Some(sandbox_app(&tenant, &f("client_secret")))
    } else {
        azure.apps.get(&f("client_id")).filter(|a| a.tenant == tenant).cloned()
    };
    let Some(mut app) = app else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            "Application with identifier was not found in the directory.",
        );
    };
    let revoked = azure.revoked.lock().unwrap_or_else(|e| e.into_inner()).contains(&f("client_id"));
    if app.secret != f("client_secret") || revoked {
        return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, "Invalid client secret provided.");
    }
    if app.secret_expired {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            "The provided client secret keys are expired.",
        );
    }
    app.client_id = f("client_id");
    issue(&azure, &tenant, app, audience)
}

/// The resource of a `<resource>/.default` scope, if a known one.
fn resource(scope: &str) -> Result<&'static str, Response> {
    let resource = scope.strip_suffix("/.default").unwrap_or_default();
    RESOURCES.iter().find(|r| **r == resource).copied().ok_or_else(|| {
        aad_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011, "The provided value for scope is not valid.")
    })
}

/// A token for `app` (its `client_id` filled in) and `audience`, as the
/// token endpoint answers with it.
fn issue(azure: &Azure, tenant: &str, app: App, audience: &str) -> Response {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "tid": tenant,
        "appid": &app.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 3599,
        "jti": crate::random_token(),
    });
    let key = jsonwebtoken::EncodingKey::from_secret(azure.signing_key.as_bytes());
    let Ok(token) = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    azure.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), (app, audience.to_owned()));
    Json(json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token }))
        .into_response()
}

/// The app whose token the request carries: `Ok(None)` without a known
/// token, `Err` with ARM's answer for a token of another audience.
fn caller(azure: &Azure, headers: &HeaderMap) -> Result<Option<App>, Response> {
    match bearer(azure, headers) {
        Some((_, audience)) if audience != ARM => {
            Err(arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationTokenAudience"))
        }
        found => Ok(found.map(|(app, _)| app)),
    }
}

/// The app and audience of the token the request carries, if issued here.
fn bearer(azure: &Azure, headers: &HeaderMap) -> Option<(App, String)> {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "))?;
    azure.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()
}

fn arm_error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": code } }))).into_response()
}

/// ARM checks the principal, the api-version, then the subscription.
fn authorize(azure: &Azure, headers: &HeaderMap, query: &HashMap<String, String>, id: &str) -> Result<App, Response> {
    let Some(app) = caller(azure, headers)? else {
        return Err(arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken"));
    };
    if !query.contains_key("api-version") {
        return Err(arm_error(StatusCode::BAD_REQUEST, "MissingApiVersionParameter"));
    }
    let every = app.subscriptions.iter().any(|s| s == "*");
    if !azure.subscriptions.contains_key(id) && !every {
        return Err(arm_error(StatusCode::NOT_FOUND, "SubscriptionNotFound"));
    }
    if !every && !app.subscriptions.iter().any(|s| s == id) {
        return Err(arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed"));
    }
    Ok(app)
}

async fn subscription(
    State(azure): State<Arc<Azure>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&azure, &headers, &query, &id) {
        return response;
    }
    let sandbox = ("Sandbox subscription".to_owned(), "Enabled".to_owned());
    let (name, state) = azure.subscriptions.get(&id).unwrap_or(&sandbox);
    Json(json!({ "id": format!("/subscriptions/{id}"), "subscriptionId": id, "displayName": name, "state": state }))
        .into_response()
}

async fn permissions(
    State(azure): State<Arc<Azure>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match authorize(&azure, &headers, &query, &id) {
        Ok(app) => {
            let value: Vec<_> = app
                .permissions
                .iter()
                .map(|(a, n)| json!({ "actions": a, "notActions": n, "dataActions": [], "notDataActions": [] }))
                .collect();
            Json(json!({ "value": value })).into_response()
        }
        Err(response) => response,
    }
}

/// Graph's error shape.
fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// `GET /v1.0/applications?$filter=appId eq '…'`: the caller's own app
/// registration, with its password credentials, if it may read them. Graph
/// shows a secret only by its first three characters (`hint`); the app has
/// a second secret, with another hint and an earlier end, as real apps in
/// rotation do, so a reader that does not match hints picks the wrong one.
async fn applications(
    State(azure): State<Arc<Azure>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((app, audience)) = bearer(&azure, &headers) else {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty.");
    };
    if audience != GRAPH {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Invalid audience.");
    }
    if !app.reads_applications {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let filter = query.get("$filter").map(String::as_str).unwrap_or_default();
    if filter != format!("appId eq '{}'", app.client_id) {
        return Json(json!({ "value": [] })).into_response();
    }
    let now = chrono::Utc::now();
    let end = app.secret_end_time.unwrap_or(now + chrono::Duration::days(730));
    let hint: String = app.secret.chars().take(3).collect();
    let other_hint = if hint == "~~~" { "~~}" } else { "~~~" };
    let credential = |hint: &str, end: chrono::DateTime<chrono::Utc>| {
        json!({
            "customKeyIdentifier": null,
            "displayName": "cloudconn",
            "endDateTime": end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "hint": hint,
            "keyId": uuid::Uuid::new_v4().to_string(),
            "secretText": null,
            "startDateTime": (now - chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    };
    let credentials = [credential(&hint, end), credential(other_hint, now + chrono::Duration::days(3))];
    Json(json!({ "value": [{ "appId": app.client_id, "passwordCredentials": credentials }] })).into_response()
}
