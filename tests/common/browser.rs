//! A minimal browser for page tests: cookies kept, redirects not followed, CSRF read from forms.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::{Authenticator, TestApp};

/// A minimal browser: keeps cookies, does not follow redirects, reads the CSRF token from forms.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
    /// The app's second-factor secrets, to type the code at login.
    pub authenticator: Authenticator,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    pub fn csrf(&self) -> String {
        let at = self
            .html
            .find("name=\"csrf_token\" value=\"")
            .expect("a form with a CSRF token")
            + 25;
        self.html[at..at + 64].to_string()
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: app.base.clone(),
            cookies: HashMap::new(),
            authenticator: app.authenticator.clone(),
        }
    }

    pub async fn finish(&mut self, res: reqwest::Response) -> Page {
        for value in res.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = res.status();
        let location = res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
        let headers = res.headers().clone();
        Page {
            status,
            location,
            headers,
            html: res.text().await.unwrap(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// Log in on the page, typing a fresh code when the helpers enrolled this user.
    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        let csrf = self.get("/login").await.csrf();
        let code = self.authenticator.code(email).await.unwrap_or_default();
        self.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
                ("totp", &code),
            ],
        )
        .await
    }
}
