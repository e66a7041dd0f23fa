//! `/`: the signed-in user's homepage, built for their Role.

use super::Shell;
use crate::web::error::WebError;
use crate::web::session::SignedInUser;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    shell: Option<Shell>,
    title: &'static str,
    greeting_name: String,
    role_name: String,
    role_headline: String,
    role_introduction: String,
    profile_name: String,
    company_name: String,
}

pub async fn show(user: SignedInUser) -> Result<HomePage, WebError> {
    Ok(HomePage {
        shell: Some(Shell::of(&user)),
        title: "Home",
        greeting_name: user.greeting_name(),
        role_name: user.role_name.clone(),
        role_headline: user.role_headline.clone(),
        role_introduction: user.role_introduction.clone(),
        profile_name: user.profile_name.clone(),
        company_name: user.company_name.clone(),
    })
}
