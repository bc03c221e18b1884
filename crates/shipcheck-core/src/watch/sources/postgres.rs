//! PostgreSQL: client connections in percent of the usable `max_connections`.

use std::time::Duration;

use sqlx::Row;

use crate::checks::postgres::Db;
use crate::model::watch::{Metric, Reading, SeriesKey};
use crate::watch::WatchContext;
use crate::watch::signal::{BoxFuture, Signal};

const CONNECTIONS: &str = "SELECT count(*) FILTER (WHERE backend_type = 'client backend')::int8, \
    current_setting('max_connections')::int8, current_setting('superuser_reserved_connections')::int8 \
    FROM pg_stat_activity";

/// The production database.
pub struct PostgresSignal;

impl Signal for PostgresSignal {
    fn name(&self) -> String {
        "database connections".into()
    }
    fn app(&self) -> Option<&str> {
        None
    }
    fn min_interval(&self) -> Duration {
        Duration::from_secs(30)
    }
    fn sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let key = SeriesKey::new(Metric::DbConnections, None);
            let (value, detail) = match measure(ctx).await {
                Ok((v, d)) => (Some(v), Some(d)),
                Err(e) => (None, Some(e)),
            };
            vec![Reading {
                key,
                value,
                detail,
                observations: Vec::new(),
                counts: None,
            }]
        })
    }
}

async fn measure(ctx: &WatchContext) -> Result<(f64, String), String> {
    let cfg = ctx
        .config
        .database
        .as_ref()
        .ok_or("no [database] table in the config")?;
    let url = crate::model::config::env_token(&cfg.url_env, "PostgreSQL")?;
    let mut db = Db::connect(&url, &cfg.url_env, cfg.timeout.get())
        .await
        .map_err(|e| e.to_string())?;
    let rows = db.rows("counting connections", CONNECTIONS).await;
    db.close().await;
    let rows = rows.map_err(|e| e.to_string())?;
    let row = rows.first().ok_or("counting connections returned no row")?;
    let get = |i: usize| row.try_get::<Option<i64>, _>(i).ok().flatten().unwrap_or(0);
    let (clients, max, reserved) = (get(0), get(1), get(2));
    let usable = (max - reserved).max(1);
    Ok((
        clients as f64 * 100.0 / usable as f64,
        format!("{clients} of {usable} usable connections"),
    ))
}
