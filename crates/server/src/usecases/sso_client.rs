//! Talking to an OpenID Connect provider: its discovery document and the HTTP client the
//! `openidconnect` crate sends its requests through (hyper on rustls with ring, no redirects
//! followed, short timeouts).

use crate::store::SsoProviderRecord;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
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

/// The HTTP client of every request to a provider, as `openidconnect` calls it: hyper with
/// rustls on ring and the web PKI's roots. Redirects are not followed (the crate's advice
/// against server-side request forgery through a provider's answers). (A named type rather than
/// a closure: the futures of a closure over a borrowed client are not `Send` for every
/// lifetime, which axum's handlers need.)
#[derive(Debug, Clone)]
pub struct ProviderHttp(Client<HttpsConnector<HttpConnector>, Full<Bytes>>);

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderError;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

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
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(ProviderHttp(
        Client::builder(TokioExecutor::new()).build(connector),
    ))
}

/// Sends one of the crate's requests, within [`PROVIDER_TIMEOUT`].
async fn send(
    client: &Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    request: HttpRequest,
) -> Result<HttpResponse, ProviderError> {
    let (parts, body) = request.into_parts();
    // Every address the provider's discovery document names (token endpoint, keys) follows the
    // issuer's rule: the client secret and the signing keys never travel in clear.
    let target = parts.uri.to_string();
    if !Url::parse(&target).is_ok_and(|url| issuer_is_allowed(&url)) {
        return Err(ProviderError(format!(
            "the provider's address {target} is not https"
        )));
    }
    let request = axum::http::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|error| ProviderError(chain(&error)))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|error| ProviderError(chain(&error)))?
            .to_bytes();
        Ok(axum::http::Response::from_parts(parts, body.to_vec()))
    };
    tokio::time::timeout(PROVIDER_TIMEOUT, exchange)
        .await
        .map_err(|_| {
            ProviderError(format!(
                "no answer within {} seconds",
                PROVIDER_TIMEOUT.as_secs()
            ))
        })?
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
