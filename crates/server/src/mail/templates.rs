//! Every email is a typed template: one struct renders the subject, the text and the HTML part.

use crate::store::NewEmail;
use askama::Template;
use onestop_domain::PersonalMessage;

/// The invitation to join an organization's account.
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    pub company_name: String,
    pub account_name: String,
    /// Who invited them; `None` when the invitation came from the command line.
    pub inviter_name: Option<String>,
    pub recipient_first_name: Option<String>,
    pub join_url: String,
    /// Already formatted in the company's time zone ("2026-12-04 19:00 JST").
    pub expires_at: String,
    /// The inviter's own words, shown as typed (escaped in the HTML part, line breaks kept).
    pub personal_message: Option<PersonalMessage>,
}

#[derive(Template)]
#[template(path = "emails/invitation.txt")]
struct InvitationText<'a> {
    email: &'a InvitationEmail,
}

#[derive(Template)]
#[template(path = "emails/invitation.html")]
struct InvitationHtml<'a> {
    email: &'a InvitationEmail,
}

impl InvitationEmail {
    /// Exactly as the help article quotes it.
    pub fn subject(&self) -> String {
        format!(
            "You are invited to join {}'s {} account.",
            self.company_name, self.account_name
        )
    }

    pub fn render(&self, recipient: &str) -> Result<NewEmail, askama::Error> {
        Ok(NewEmail {
            kind: "invitation",
            recipient: recipient.to_owned(),
            subject: self.subject(),
            body_text: InvitationText { email: self }.render()?,
            body_html: InvitationHtml { email: self }.render()?,
            action_url: Some(self.join_url.clone()),
        })
    }
}

/// To each administrator: an invitee whose link expired asks for a new one.
#[derive(Debug, Clone)]
pub struct InvitationRequestEmail {
    pub administrator_first_name: Option<String>,
    pub invitee_name: String,
    pub invitee_email: String,
    pub account_name: String,
    pub users_url: String,
}

#[derive(Template)]
#[template(path = "emails/invitation_request.txt")]
struct InvitationRequestText<'a> {
    email: &'a InvitationRequestEmail,
}

#[derive(Template)]
#[template(path = "emails/invitation_request.html")]
struct InvitationRequestHtml<'a> {
    email: &'a InvitationRequestEmail,
}

impl InvitationRequestEmail {
    pub fn subject(&self) -> String {
        format!(
            "{} asks for a new invitation to {}",
            self.invitee_name, self.account_name
        )
    }

    pub fn render(&self, recipient: &str) -> Result<NewEmail, askama::Error> {
        Ok(NewEmail {
            kind: "invitation_request",
            recipient: recipient.to_owned(),
            subject: self.subject(),
            body_text: InvitationRequestText { email: self }.render()?,
            body_html: InvitationRequestHtml { email: self }.render()?,
            action_url: None,
        })
    }
}

/// The "Forgot password?" email.
#[derive(Debug, Clone)]
pub struct PasswordResetEmail {
    pub first_name: Option<String>,
    pub account_name: String,
    pub username: String,
    pub reset_url: String,
    pub expires_at: String,
    /// The administrator who sent the link from the user's page; `None` when the user asked.
    pub sent_by: Option<String>,
}

#[derive(Template)]
#[template(path = "emails/password_reset.txt")]
struct PasswordResetText<'a> {
    email: &'a PasswordResetEmail,
}

#[derive(Template)]
#[template(path = "emails/password_reset.html")]
struct PasswordResetHtml<'a> {
    email: &'a PasswordResetEmail,
}

impl PasswordResetEmail {
    pub fn subject(&self) -> String {
        format!(
            "Reset your 1Stop password for the {} account",
            self.account_name
        )
    }

    pub fn render(&self, recipient: &str) -> Result<NewEmail, askama::Error> {
        Ok(NewEmail {
            kind: "password_reset",
            recipient: recipient.to_owned(),
            subject: self.subject(),
            body_text: PasswordResetText { email: self }.render()?,
            body_html: PasswordResetHtml { email: self }.render()?,
            action_url: Some(self.reset_url.clone()),
        })
    }
}

/// To a user whose password was given with too many wrong second steps: somebody may know it.
#[derive(Debug, Clone)]
pub struct SecondStepAlertEmail {
    pub first_name: Option<String>,
    pub account_name: String,
    /// How many wrong second steps filled the quarter hour's window.
    pub wrong_answers: i64,
    /// The client address they came from.
    pub address: String,
    /// Already formatted in the user's time zone.
    pub at: String,
    /// "Forgot password?", where a new password is chosen.
    pub new_password_url: String,
}

#[derive(Template)]
#[template(path = "emails/second_step_alert.txt")]
struct SecondStepAlertText<'a> {
    email: &'a SecondStepAlertEmail,
}

#[derive(Template)]
#[template(path = "emails/second_step_alert.html")]
struct SecondStepAlertHtml<'a> {
    email: &'a SecondStepAlertEmail,
}

impl SecondStepAlertEmail {
    pub fn subject(&self) -> String {
        format!(
            "Someone used your 1Stop password for the {} account",
            self.account_name
        )
    }

    pub fn render(&self, recipient: &str) -> Result<NewEmail, askama::Error> {
        Ok(NewEmail {
            kind: "second_step_alert",
            recipient: recipient.to_owned(),
            subject: self.subject(),
            body_text: SecondStepAlertText { email: self }.render()?,
            body_html: SecondStepAlertHtml { email: self }.render()?,
            action_url: None,
        })
    }
}
