//! Profile pictures: a user changes or removes their own; an administrator changes or removes
//! the picture of a user they may manage (the grant rule of Edit User); anyone signed in sees
//! the pictures of their own company. Uploads become small square PNGs ([`crate::pictures`]).

use super::Services;
use super::edit_user::{EditError, user_to_edit};
use super::sessions::SignedInSession;
use crate::pictures::{PictureError, STORED_CONTENT_TYPE, square_picture};
use crate::store::{Actor, StoreError, StoredPicture};
use onestop_domain::UserId;
use tokio::sync::Semaphore;

/// Pictures decoded at once. Decoding an image within the limits may take a few hundred
/// megabytes for a moment; one at a time keeps that the most it takes.
static DECODING: Semaphore = Semaphore::const_new(1);

#[derive(Debug, thiserror::Error)]
pub enum PictureChangeError {
    /// The upload is refused; the message says why.
    #[error(transparent)]
    Refused(#[from] PictureError),
    /// No such user in the organization, or one the administrator may not manage.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for PictureChangeError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<EditError> for PictureChangeError {
    fn from(error: EditError) -> Self {
        match error {
            EditError::Internal(error) => Self::Internal(error),
            EditError::NotFound | EditError::Invalid(_) | EditError::EmailTaken(_) => {
                Self::NotFound
            }
        }
    }
}

/// Whose picture a change is for: the signed-in user's own, or a user an administrator manages.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Own,
    Managed(&'a UserId),
}

/// The user `whose` names, if `actor` may change their picture.
async fn target(
    services: &Services,
    actor: &SignedInSession,
    whose: Whose<'_>,
) -> Result<UserId, PictureChangeError> {
    match whose {
        Whose::Own => Ok(actor.user_id.clone()),
        Whose::Managed(user_id) => Ok(user_to_edit(services, actor, user_id).await?.id),
    }
}

fn actor<'a>(services: &Services, session: &'a SignedInSession, ip: Option<&'a str>) -> Actor<'a> {
    Actor {
        scope: &session.scope,
        user_id: session.user_id.as_str(),
        ip,
        now: services.clock.now(),
    }
}

/// Makes `upload` the picture of the user `whose` names, re-encoded; nothing is stored when it
/// is refused.
pub async fn change_picture(
    services: &Services,
    session: &SignedInSession,
    whose: Whose<'_>,
    upload: Vec<u8>,
    ip: Option<&str>,
) -> Result<(), PictureChangeError> {
    let user_id = target(services, session, whose).await?;
    let permit = DECODING
        .acquire()
        .await
        .map_err(|error| anyhow::anyhow!("the decoding semaphore closed: {error}"))?;
    // The permit goes with the work: a request given up mid-way does not free it early.
    let image = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        square_picture(&upload)
    })
    .await
    .map_err(|error| anyhow::anyhow!("decoding a picture panicked: {error}"))??;
    let digest = onestop_domain::token::sha256_hex(&image);
    let saved = services
        .store
        .save_picture(
            actor(services, session, ip),
            &user_id,
            &image,
            STORED_CONTENT_TYPE,
            &digest,
        )
        .await?;
    if saved {
        Ok(())
    } else {
        Err(PictureChangeError::NotFound)
    }
}

/// Removes the picture of the user `whose` names (nothing happens when they have none).
pub async fn remove_picture(
    services: &Services,
    session: &SignedInSession,
    whose: Whose<'_>,
    ip: Option<&str>,
) -> Result<(), PictureChangeError> {
    let user_id = target(services, session, whose).await?;
    services
        .store
        .remove_picture(actor(services, session, ip), &user_id)
        .await?;
    Ok(())
}

/// The picture of `user_id` for a viewer of the same company; `None` for a user of another
/// company, an unknown one, or one without a picture.
pub async fn picture_to_show(
    services: &Services,
    viewer: &SignedInSession,
    user_id: &UserId,
) -> Result<Option<StoredPicture>, StoreError> {
    services.store.picture(&viewer.scope, user_id).await
}
