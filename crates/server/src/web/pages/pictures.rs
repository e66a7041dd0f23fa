//! Profile pictures: the upload and remove form on My Account (`/account`, every signed-in
//! user's own), the same form on a user's page for administrators (the `_picture.html`
//! partial), and the picture itself (`/users/{user_id}/picture`), served to the signed-in
//! users of the same company only.

use super::users_list::{avatar_class, initials};
use crate::pictures::PictureError;
use crate::usecases::FieldErrors;
use crate::usecases::pictures::{
    PictureChangeError, Whose, change_picture, picture_to_show, remove_picture,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CsrfForm, TokenOnly};
use crate::web::error::WebError;
use crate::web::session::{IdPath, ManageUsers, RequirePermission, SignedInUser};
use crate::web::uploads::{CsrfUpload, Upload};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::UserId;

/// Images only, from nowhere, doing nothing: opened on its own, a picture runs no script and
/// loads nothing, whatever its bytes (which are ours anyway: re-encoded PNGs).
const PICTURE_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

/// A user's picture, or their initials, with the forms to change and remove it.
#[derive(Debug, Clone)]
pub struct PictureView {
    pub full_name: String,
    pub initials: String,
    pub avatar_class: String,
    /// Where the picture is served, with its version; `None` when the user has none.
    pub url: Option<String>,
    pub upload_action: String,
    pub remove_action: String,
    pub csrf_token: String,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

/// The picture link of `user_id` whose picture's digest is `digest`: the digest makes each
/// version its own address, so browsers may keep a picture until it changes.
pub fn picture_url(user_id: &str, digest: &str) -> String {
    let version = digest.get(..16).unwrap_or(digest);
    format!("/users/{user_id}/picture?v={version}")
}

impl PictureView {
    /// The picture of the user `user_id` named `first` `last`, changed through `whose`'s forms.
    pub async fn load(
        state: &AppState,
        viewer: &SignedInSession,
        user_id: &UserId,
        (first, last): (Option<&str>, &str),
        whose: Whose<'_>,
    ) -> Result<Self, WebError> {
        let digest = state
            .services
            .store
            .picture_digests(&viewer.scope, &[user_id.as_str()])
            .await?
            .remove(user_id.as_str());
        let (upload_action, remove_action) = match whose {
            Whose::Own => (
                "/account/picture".to_owned(),
                "/account/picture/remove".to_owned(),
            ),
            Whose::Managed(user_id) => (
                format!("/setup/users/{user_id}/picture"),
                format!("/setup/users/{user_id}/picture/remove"),
            ),
        };
        Ok(Self {
            full_name: first.map_or_else(|| last.to_owned(), |first| format!("{first} {last}")),
            initials: initials(first, last),
            avatar_class: avatar_class(user_id.as_str()),
            url: digest.map(|digest| picture_url(user_id.as_str(), &digest)),
            upload_action,
            remove_action,
            csrf_token: viewer.csrf_token.clone(),
            notice: None,
            error: None,
        })
    }
}

/// What the page says after a change (`?picture=saved` or `?picture=removed`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct PictureQuery {
    picture: Option<String>,
}

impl PictureQuery {
    pub fn notice(&self) -> Option<&'static str> {
        match self.picture.as_deref()? {
            "saved" => Some("Picture saved."),
            "removed" => Some("Picture removed."),
            _ => None,
        }
    }
}

/// The status and message for a refused upload, or the error that is not the form's.
fn refusal(error: PictureChangeError) -> Result<(StatusCode, String), WebError> {
    match error {
        PictureChangeError::Refused(reason) => {
            let status = if reason == PictureError::TooLarge {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok((status, reason.to_string()))
        }
        PictureChangeError::NotFound => Err(WebError::NotFound),
        PictureChangeError::Internal(error) => Err(WebError::Internal(error)),
    }
}

/// Removing has no refusal of its own: a user the remover may not manage is not found.
fn not_removed(error: PictureChangeError) -> WebError {
    match error {
        PictureChangeError::Internal(error) => WebError::Internal(error),
        PictureChangeError::NotFound | PictureChangeError::Refused(_) => WebError::NotFound,
    }
}

/// Changes the picture `whose` names from `upload`; `Ok(None)` when saved, otherwise the
/// status and message for the form.
async fn upload_picture(
    state: &AppState,
    user: &SignedInSession,
    whose: Whose<'_>,
    client: &Client,
    upload: Upload,
) -> Result<Option<(StatusCode, String)>, WebError> {
    let result = match upload {
        Upload::File(bytes) => {
            change_picture(&state.services, user, whose, bytes, Some(&client.ip)).await
        }
        Upload::TooLarge => Err(PictureChangeError::Refused(PictureError::TooLarge)),
    };
    match result {
        Ok(()) => Ok(None),
        Err(error) => refusal(error).map(Some),
    }
}

pub async fn upload_own(
    State(state): State<AppState>,
    user: SignedInUser,
    client: Client,
    CsrfUpload(upload): CsrfUpload,
) -> Result<Response, WebError> {
    match upload_picture(&state, &user, Whose::Own, &client, upload).await? {
        None => Ok(Redirect::to("/account?picture=saved").into_response()),
        Some((status, message)) => {
            let mut page =
                super::account::page(&state, &user, None, FieldErrors::default(), None).await?;
            page.picture.error = Some(message);
            Ok((status, page).into_response())
        }
    }
}

pub async fn remove_own(
    State(state): State<AppState>,
    user: SignedInUser,
    client: Client,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    remove_picture(&state.services, &user, Whose::Own, Some(&client.ip))
        .await
        .map_err(not_removed)?;
    Ok(Redirect::to("/account?picture=removed").into_response())
}

/// The administrator's upload on the user's page: the same rules, for a user they may manage (others
/// are not found, as on Edit User).
pub async fn upload_for_user(
    State(state): State<AppState>,
    admin: RequirePermission<ManageUsers>,
    client: Client,
    IdPath(user_id): IdPath<UserId>,
    CsrfUpload(upload): CsrfUpload,
) -> Result<Response, WebError> {
    let whose = Whose::Managed(&user_id);
    match upload_picture(&state, &admin, whose, &client, upload).await? {
        None => Ok(Redirect::to(&format!(
            "/setup/users/{user_id}?picture=saved#profile-picture"
        ))
        .into_response()),
        Some((status, message)) => {
            let mut page =
                super::user_page::load_user_page(&state, &admin, &user_id, Vec::new()).await?;
            page.picture.error = Some(message);
            Ok((status, page).into_response())
        }
    }
}

pub async fn remove_for_user(
    State(state): State<AppState>,
    admin: RequirePermission<ManageUsers>,
    client: Client,
    IdPath(user_id): IdPath<UserId>,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    remove_picture(
        &state.services,
        &admin,
        Whose::Managed(&user_id),
        Some(&client.ip),
    )
    .await
    .map_err(not_removed)?;
    Ok(Redirect::to(&format!(
        "/setup/users/{user_id}?picture=removed#profile-picture"
    ))
    .into_response())
}

/// The picture of a user of the viewer's company (another company's, an unknown user, or one
/// without a picture: not found). Revalidated by its ETag; its address changes with it.
pub async fn serve(
    State(state): State<AppState>,
    viewer: SignedInUser,
    IdPath(user_id): IdPath<UserId>,
    request_headers: HeaderMap,
) -> Result<Response, WebError> {
    let picture = picture_to_show(&state.services, &viewer, &user_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let etag = format!("\"{}\"", picture.digest);
    let unchanged = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        picture.image.into_response()
    };
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&picture.content_type)
        .map_err(|error| WebError::Internal(error.into()))?;
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(|error| WebError::Internal(error.into()))?,
    );
    // Private: a shared cache must not keep one company's pictures. A day at most, then
    // asked again (a removed picture stops showing, and a user who left stops being shown).
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PICTURE_CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
