//! Setup > Users > "Export CSV": the list as it is shown (view, search, filters and sort, the
//! same address parameters; paging is ignored: every matching user) as a CSV download, streamed
//! as the use case produces it.

use super::users_list::{ListState, UsersQuery};
use crate::usecases::export_users::{Exporter, UserExport, start_export};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::error::WebError;
use crate::web::session::{ManageUsers, RequirePermission};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn export_csv(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    Query(query): Query<UsersQuery>,
) -> Result<Response, WebError> {
    let list = ListState::parse(&query);
    let exporter = Exporter::User {
        id: &user.user_id,
        ip: &client.ip,
    };
    let export = start_export(
        &state.services,
        &user.scope,
        exporter,
        list.matching(),
        list.sort,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"users.csv\"",
            ),
        ],
        Body::from_stream(chunks(export)),
    )
        .into_response())
}

/// The export's chunks as a body stream. A failure half-way can only cut the download short
/// (the status has been sent): it is logged, and the client sees an incomplete response.
fn chunks(
    export: UserExport,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, crate::usecases::export_users::ExportError>>
+ Send
+ 'static {
    futures_util::stream::try_unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(chunk) => Ok(chunk.map(|chunk| (chunk, export))),
            Err(error) => {
                tracing::error!(error = %error, "the users export stopped half-way");
                Err(error)
            }
        }
    })
}
