//! OIDC token verification against Cognito in the emulator: a user pool with the
//! groups `viewer`, `analyst` and `admin`, a user in each and one in none, tokens from
//! `InitiateAuth` (USER_PASSWORD_AUTH), checked by our verifier against the pool's
//! JWKS. The groups come back exactly as the pool has them; the emulator's discovery
//! document names the real Cognito issuer, which is what the tokens carry.

use crate::aws_env::{endpoint, sdk_config, unique};
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType};
use aws_sdk_cognitoidentityprovider::Client;
use cspm::auth::oidc::{
    discover_at, http_client, JwksCache, OidcConfig, TokenUse, TokenVerifier, VerifyError,
};
use std::sync::Arc;

const PASSWORD: &str = "Correct-Horse-9-Battery";

pub(crate) struct Pool {
    client: Client,
    pool_id: String,
    pub(crate) app_client_id: String,
}

pub(crate) async fn pool(endpoint: &str) -> Pool {
    let client = Client::new(&sdk_config(endpoint).await);
    let created = client
        .create_user_pool()
        .pool_name(unique("cspm"))
        .send()
        .await
        .expect("CreateUserPool");
    let pool_id = created
        .user_pool()
        .and_then(|p| p.id())
        .expect("pool id")
        .to_string();
    let app_client_id = app_client(&client, &pool_id).await;
    for group in ["viewer", "analyst", "admin"] {
        client
            .create_group()
            .user_pool_id(&pool_id)
            .group_name(group)
            .send()
            .await
            .expect("CreateGroup");
    }
    Pool {
        client,
        pool_id,
        app_client_id,
    }
}

async fn app_client(client: &Client, pool_id: &str) -> String {
    let out = client
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(unique("dashboard"))
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient");
    out.user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string()
}

impl Pool {
    /// A confirmed user with a permanent password, in `group` if given.
    pub(crate) async fn user(&self, name: &str, group: Option<&str>) {
        let c = &self.client;
        c.admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(name)
            .send()
            .await
            .expect("AdminCreateUser");
        c.admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(name)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
        if let Some(group) = group {
            c.admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(name)
                .group_name(group)
                .send()
                .await
                .expect("AdminAddUserToGroup");
        }
    }

    /// (access token, ID token) from a password sign-in at `app_client_id`.
    pub(crate) async fn sign_in(&self, app_client_id: &str, name: &str) -> (String, String) {
        let out = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(app_client_id)
            .auth_parameters("USERNAME", name)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("InitiateAuth");
        let result = out
            .authentication_result()
            .expect("tokens, not a challenge");
        (
            result.access_token().expect("access token").to_string(),
            result.id_token().expect("id token").to_string(),
        )
    }

    pub(crate) fn verifier(&self, endpoint: &str) -> TokenVerifier {
        let config = OidcConfig::cognito("us-east-1", &self.pool_id, &self.app_client_id)
            .unwrap()
            .with_jwks_uri(&format!(
                "{endpoint}/{}/.well-known/jwks.json",
                self.pool_id
            ))
            .unwrap();
        let keys = JwksCache::new(http_client(), config.jwks_uri.clone().unwrap());
        TokenVerifier::new(&config, Arc::new(keys))
    }
}

#[tokio::test]
async fn cognito_access_tokens_verify_and_carry_exactly_the_users_groups() {
    let Some(endpoint) =
        endpoint("cognito_access_tokens_verify_and_carry_exactly_the_users_groups")
    else {
        return;
    };
    let pool = pool(&endpoint).await;
    let users = [
        ("vera", Some("viewer")),
        ("ana", Some("analyst")),
        ("adam", Some("admin")),
        ("nora", None),
    ];
    for (name, group) in users {
        pool.user(name, group).await;
    }
    let verifier = pool.verifier(&endpoint);
    for (name, group) in users {
        let (access, id_token) = pool.sign_in(&pool.app_client_id, name).await;
        let identity = verifier
            .verify_access_token(&access)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected: Vec<String> = group.into_iter().map(str::to_string).collect();
        assert_eq!(identity.roles_claim, expected, "{name}");
        assert_eq!(identity.username.as_deref(), Some(name));
        assert_eq!(identity.token_use, TokenUse::Access);
        // The same user's ID token serves a session, and carries the same groups.
        let session = verifier
            .verify_id_token(&id_token, None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(session.sub, identity.sub);
        assert_eq!(session.roles_claim, expected, "{name}");
        // But it is no bearer token, and an access token is no ID token.
        let err = verifier.verify_access_token(&id_token).await.unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::WrongTokenUse {
                    expected: "access",
                    ..
                }
            ),
            "{name}: {err}"
        );
        let err = verifier.verify_id_token(&access, None).await.unwrap_err();
        assert!(
            matches!(err, VerifyError::WrongTokenUse { expected: "id", .. }),
            "{name}: {err}"
        );
    }
}

#[tokio::test]
async fn a_token_issued_to_another_app_client_is_refused() {
    let Some(endpoint) = endpoint("a_token_issued_to_another_app_client_is_refused") else {
        return;
    };
    let pool = pool(&endpoint).await;
    pool.user("ana", Some("analyst")).await;
    let other_client = app_client(&pool.client, &pool.pool_id).await;
    let (access, id_token) = pool.sign_in(&other_client, "ana").await;
    let verifier = pool.verifier(&endpoint);
    let err = verifier.verify_access_token(&access).await.unwrap_err();
    assert!(matches!(err, VerifyError::WrongAudience), "{err}");
    let err = verifier.verify_id_token(&id_token, None).await.unwrap_err();
    assert!(matches!(err, VerifyError::WrongAudience), "{err}");
}

#[tokio::test]
async fn the_emulators_discovery_names_the_issuer_its_tokens_carry() {
    let Some(endpoint) = endpoint("the_emulators_discovery_names_the_issuer_its_tokens_carry")
    else {
        return;
    };
    let pool = pool(&endpoint).await;
    let config = OidcConfig::cognito("us-east-1", &pool.pool_id, &pool.app_client_id).unwrap();
    let url = format!(
        "{endpoint}/{}/.well-known/openid-configuration",
        pool.pool_id
    )
    .parse()
    .unwrap();
    let metadata = discover_at(&http_client(), &url, &config.issuer)
        .await
        .expect("discovery");
    assert_eq!(
        metadata.jwks_uri.as_str(),
        format!("{endpoint}/{}/.well-known/jwks.json", pool.pool_id)
    );
    let wrong = OidcConfig::cognito("us-east-1", "us-east-1_Other", &pool.app_client_id).unwrap();
    assert!(discover_at(&http_client(), &url, &wrong.issuer)
        .await
        .is_err());
}
