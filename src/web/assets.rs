//! The files the pages load besides the stylesheet, embedded in the binary so that nothing is
//! fetched at build or run time: our map script and the vendored Leaflet (templates/vendor/leaflet,
//! from the npm registry; templates/vendor/refresh-leaflet.sh). Leaflet's addresses carry its version, so
//! they are cached for a year.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::templates::components::{LEAFLET_CSS, LEAFLET_IMAGES, LEAFLET_JS, MAP_JS};

const A_YEAR: &str = "public, max-age=31536000, immutable";
const AN_HOUR: &str = "public, max-age=3600";

struct Asset {
    path: String,
    content_type: &'static str,
    cache: &'static str,
    body: &'static [u8],
}

fn assets() -> Vec<Asset> {
    let image = |name: &str, body: &'static [u8]| Asset {
        path: format!("{LEAFLET_IMAGES}/{name}"),
        content_type: "image/png",
        cache: A_YEAR,
        body,
    };
    vec![
        Asset {
            path: MAP_JS.into(),
            content_type: "text/javascript; charset=utf-8",
            cache: AN_HOUR,
            body: include_bytes!("../../templates/map.js"),
        },
        Asset {
            path: LEAFLET_JS.into(),
            content_type: "text/javascript; charset=utf-8",
            cache: A_YEAR,
            body: include_bytes!("../../templates/vendor/leaflet/leaflet.js"),
        },
        Asset {
            path: LEAFLET_CSS.into(),
            content_type: "text/css; charset=utf-8",
            cache: A_YEAR,
            body: include_bytes!("../../templates/vendor/leaflet/leaflet.css"),
        },
        image(
            "layers.png",
            include_bytes!("../../templates/vendor/leaflet/images/layers.png"),
        ),
        image(
            "layers-2x.png",
            include_bytes!("../../templates/vendor/leaflet/images/layers-2x.png"),
        ),
        image(
            "marker-icon.png",
            include_bytes!("../../templates/vendor/leaflet/images/marker-icon.png"),
        ),
        image(
            "marker-icon-2x.png",
            include_bytes!("../../templates/vendor/leaflet/images/marker-icon-2x.png"),
        ),
        image(
            "marker-shadow.png",
            include_bytes!("../../templates/vendor/leaflet/images/marker-shadow.png"),
        ),
    ]
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for asset in assets() {
        let (content_type, cache, body) = (asset.content_type, asset.cache, asset.body);
        cfg.route(
            &asset.path,
            web::get().to(move || async move {
                HttpResponse::Ok()
                    .insert_header((header::CONTENT_TYPE, content_type))
                    .insert_header((header::CACHE_CONTROL, cache))
                    .body(body)
            }),
        );
    }
}
