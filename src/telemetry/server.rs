//! The HTTP server every flavor runs: `GET /metrics`, `GET /healthz`,
//! `GET /readyz`, plus the flavor's own routes (inbound webhooks). Each
//! request to a flavor route runs in a span that continues the caller's W3C
//! trace context, so events a webhook produces carry it on.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::health::{Health, Report};
use super::{metrics, trace};

/// A running server; [`Server::stop`] ends it.
pub struct Server {
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Binds `addr` (port 0 picks a free port) and serves in the background.
pub async fn start(
    addr: SocketAddr,
    health: Arc<Health>,
    routes: Option<Router>,
) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let mut app = router(health);
    if let Some(routes) = routes {
        app = app.merge(routes.layer(axum::middleware::from_fn(traced)));
    }
    let stop = CancellationToken::new();
    let until = stop.clone().cancelled_owned();
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(until)
            .await
        {
            tracing::error!(error = %err, "telemetry server failed");
        }
    });
    tracing::info!(%addr, "telemetry server listening");
    Ok(Server { addr, stop, task })
}

impl Server {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open requests finish, and waits.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// The telemetry routes over `health`.
pub fn router(health: Arc<Health>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health)
}

/// Runs a flavor request in a span parented on its `traceparent` header.
async fn traced(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "http_request",
        otel.kind = "server",
        method = %request.method(),
        path = request.uri().path(),
    );
    let headers: HashMap<String, String> = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|k| {
            Some((
                k.to_string(),
                request.headers().get(k)?.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    if let Some(parent) = trace::context_of(&headers) {
        let _ = span.set_parent(parent);
    }
    next.run(request).instrument(span).await
}

async fn metrics_text() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::render(),
    )
}

async fn healthz(State(health): State<Arc<Health>>) -> impl IntoResponse {
    answer(health.liveness())
}

async fn readyz(State(health): State<Arc<Health>>) -> impl IntoResponse {
    answer(health.readiness().await)
}

fn answer(report: Report) -> impl IntoResponse {
    let status = if report.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}
