//! Turning postcodes into coordinates: an online postcodes.io-compatible service when one is
//! configured, the shipped postcode-district table otherwise (and whenever the service fails).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::geo::{Coordinates, OutcodeTable, Postcode};
use crate::domain::validate::FieldError;

/// How precisely a postcode was located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Postcode,
    District,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pub at: Coordinates,
    pub precision: Precision,
}

#[derive(Clone)]
pub struct Geocoder {
    outcodes: Arc<OutcodeTable>,
    online: Option<(reqwest::Client, String)>,
    cache: Arc<Mutex<HashMap<String, Coordinates>>>,
}

#[derive(Deserialize)]
struct PostcodesIoReply {
    result: Option<PostcodesIoResult>,
}

#[derive(Deserialize)]
struct PostcodesIoResult {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

const CACHE_LIMIT: usize = 50_000;

impl Geocoder {
    /// `online`: base URL of a postcodes.io-compatible service (`{base}/postcodes/{postcode}`).
    pub fn new(outcodes: Arc<OutcodeTable>, online: Option<String>) -> Geocoder {
        let online = online.filter(|u| !u.trim().is_empty()).and_then(|base| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .ok()
                .map(|client| (client, base.trim_end_matches('/').to_string()))
        });
        Geocoder {
            outcodes,
            online,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn outcodes(&self) -> &Arc<OutcodeTable> {
        &self.outcodes
    }

    /// Place a postcode a person typed into `field`: a postcode that is malformed, or that
    /// neither the service nor the table knows, is that field's error.
    pub async fn place(&self, field: &str, text: &str) -> Result<Located, FieldError> {
        let parsed = Postcode::parse(field, text)?;
        self.locate(&parsed)
            .await
            .ok_or_else(|| FieldError::new(field, "we cannot find where this postcode is"))
    }

    /// Locate a parsed postcode; `None` when neither the service nor the table knows it.
    pub async fn locate(&self, postcode: &Postcode) -> Option<Located> {
        if let (Some(full), Some((client, base))) = (&postcode.full, &self.online) {
            let cached = self.cache.lock().ok().and_then(|c| c.get(full).copied());
            if let Some(at) = cached {
                return Some(Located {
                    at,
                    precision: Precision::Postcode,
                });
            }
            match fetch(client, base, full).await {
                Ok(Some(at)) => {
                    if let Ok(mut cache) = self.cache.lock() {
                        if cache.len() >= CACHE_LIMIT {
                            cache.clear();
                        }
                        cache.insert(full.clone(), at);
                    }
                    return Some(Located {
                        at,
                        precision: Precision::Postcode,
                    });
                }
                Ok(None) => tracing::debug!("postcode service does not know this postcode; using the district table"),
                // Without its URL: the address holds the postcode, which is personal data.
                Err(e) => tracing::warn!(error = %e.without_url(), "postcode service failed; using the district table"),
            }
        }
        self.outcodes.centroid(&postcode.outcode).map(|at| Located {
            at,
            precision: Precision::District,
        })
    }
}

async fn fetch(client: &reqwest::Client, base: &str, postcode: &str) -> Result<Option<Coordinates>, reqwest::Error> {
    let url = format!("{base}/postcodes/{}", postcode.replace(' ', "%20"));
    let response = client.get(url).send().await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let reply: PostcodesIoReply = response.error_for_status()?.json().await?;
    Ok(reply
        .result
        .and_then(|r| r.latitude.zip(r.longitude))
        .and_then(|(lat, lon)| Coordinates::new("", lat, lon).ok()))
}
