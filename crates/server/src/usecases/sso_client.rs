//! Talking to an OpenID Connect provider: its discovery document and the HTTP client the
//! `openidconnect` crate sends its requests through (reqwest on rustls with ring, no redirects
//! followed, short timeouts).

use crate::store::SsoProviderRecord;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IssuerUrl, RedirectUrl,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long one request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of the provider, with its endpoints as discovery found them.
pub type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why the provider could not be reached or understood (shown to the administrator on Save).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

/// The HTTP client of every request to a provider, as `openidconnect` calls it. (A named type
/// rather than a closure: the futures of a closure over a borrowed client are not `Send` for
/// every lifetime, which axum's handlers need.)
#[derive(Debug, Clone)]
pub struct ProviderHttp(reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderError;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

/// Makes ring the process's rustls provider. reqwest is built without one of its own (no
/// aws-lc); every client of the process (ours, and the tests') then finds ring. Installing twice
/// is harmless (the second attempt is refused and ignored).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Redirects are not followed (the crate's advice against server-side request forgery through
/// a provider's answers).
pub fn http_client() -> Result<ProviderHttp, ProviderError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ProviderError(format!("TLS setup failed: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .connect_timeout(PROVIDER_TIMEOUT)
        .build()
        .map(ProviderHttp)
        .map_err(|error| ProviderError(format!("the HTTP client could not be built: {error}")))
}

/// Sends one of the crate's requests with `client`.
async fn send(
    client: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, ProviderError> {
    let request = reqwest::Request::try_from(request)
        .map_err(|error| ProviderError(format!("the request could not be built: {error}")))?;
    let response = client
        .execute(request)
        .await
        .map_err(|error| ProviderError(chain(&error)))?;
    let mut answer = axum::http::Response::builder().status(response.status());
    if let Some(headers) = answer.headers_mut() {
        *headers = response.headers().clone();
    }
    let body = response
        .bytes()
        .await
        .map_err(|error| ProviderError(chain(&error)))?;
    answer
        .body(body.to_vec())
        .map_err(|error| ProviderError(error.to_string()))
}

/// An error with its causes, for the administrator's message and the audit log.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Whether an issuer may be used: `https`, or `http` on a loopback address (tests, trials).
pub fn issuer_is_allowed(issuer: &Url) -> bool {
    match issuer.scheme() {
        "https" => true,
        "http" => match issuer.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(address)) => address.is_loopback(),
            Some(url::Host::Ipv6(address)) => address.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Reads the provider's discovery document (`{issuer}/.well-known/openid-configuration`) and
/// its keys, and checks that it names the same issuer.
pub async fn discover(
    http: &ProviderHttp,
    issuer: &str,
) -> Result<CoreProviderMetadata, ProviderError> {
    let issuer = IssuerUrl::new(issuer.to_owned())
        .map_err(|error| ProviderError(format!("the issuer URL is not valid: {error}")))?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|error| ProviderError(chain(&error)))
}

/// A client of the provider for this server's callback.
pub fn provider_client(
    metadata: CoreProviderMetadata,
    client_id: &str,
    client_secret: String,
    redirect_uri: &Url,
) -> Result<ProviderClient, ProviderError> {
    let redirect = RedirectUrl::from_url(redirect_uri.clone());
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret)),
    )
    .set_redirect_uri(redirect))
}

/// Where the provider sends the browser back: `{public URL}/sso/callback`.
pub fn redirect_uri(public_url: &Url) -> Result<Url, ProviderError> {
    public_url
        .join("sso/callback")
        .map_err(|error| ProviderError(error.to_string()))
}

/// A client of the company's provider: discovery read now, the secret opened.
pub async fn client_for(
    services: &super::Services,
    provider: &SsoProviderRecord,
) -> Result<ProviderClient, ProviderError> {
    let http = http_client()?;
    let metadata = discover(&http, &provider.issuer_url).await?;
    let secret = services
        .sealer
        .open(&provider.client_secret_sealed)
        .map_err(|_| ProviderError("the stored client secret cannot be opened".into()))?;
    provider_client(
        metadata,
        &provider.client_id,
        secret,
        &redirect_uri(&services.public_url)?,
    )
}
