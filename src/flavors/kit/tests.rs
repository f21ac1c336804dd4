use futures::FutureExt;

use super::*;

static UNDECLARED: DependencySpec = DependencySpec::new("undeclared", "a dependency no row names");

/// A row that declares nothing; its build asks for `ask`.
fn row(
    build: for<'a> fn(BuildCtx<'a>) -> BoxFuture<'a, Result<Built, BuildError>>,
) -> &'static FlavorSpec {
    Box::leak(Box::new(FlavorSpec {
        name: "unit-row",
        summary: "",
        style: Style::Single,
        needs_store: false,
        dependencies: &[],
        consumes: Consumes::all(),
        produces: Produces::NOTHING,
        metrics: &[],
        routes: &[],
        tables: &[],
        reads_rules: false,
        tools: None,
        config: &ConfigOf::<NoConfig>::KIND,
        build,
    }))
}

async fn refused(spec: &'static FlavorSpec) -> String {
    let settings = Settings::default();
    let store = Store::connect("sqlite::memory:", 1).await.expect("sqlite");
    let ctx = BuildCtx::new(spec, &settings, Some(store), None);
    match (spec.build)(ctx).await {
        Err(err @ BuildError::Registry { .. }) => err.to_string(),
        Err(other) => panic!("not a registry mismatch: {other}"),
        Ok(_) => panic!("the build was not refused"),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct OtherConfig {}

impl FlavorConfig for OtherConfig {}

#[tokio::test]
async fn a_build_asking_for_what_its_row_does_not_declare_is_refused() {
    let store = row(|ctx| async move { ctx.store().map(|_| unreachable!()) }.boxed());
    assert!(refused(store).await.contains("needs_store"));
    let client =
        row(|ctx| async move { ctx.client(&UNDECLARED, None).map(|_| unreachable!()) }.boxed());
    assert!(refused(client).await.contains("undeclared"));
    let config =
        row(|ctx| async move { ctx.config::<OtherConfig>().map(|_| unreachable!()) }.boxed());
    assert!(refused(config).await.contains("OtherConfig"));
}

#[tokio::test]
async fn a_built_style_other_than_declared_is_refused() {
    let spec = row(|_| async { unreachable!() }.boxed());
    let batch = Built::from(crate::flavors::timeline::processor());
    let err = batch.check(spec).expect_err("batch built, single declared");
    assert!(err.to_string().contains("declares style single"), "{err}");
}

#[tokio::test]
async fn a_build_publishing_what_its_row_does_not_produce_is_refused() {
    use crate::event::EventType;
    let publish = row(|ctx| {
        async move {
            let event = Product::Event(EventType::CaseAssigned);
            ctx.publisher(&[event]).map(|_| unreachable!())
        }
        .boxed()
    });
    let err = refused(publish).await;
    assert!(err.contains("publishes case.assigned"), "{err}");
    assert!(err.contains("does not declare"), "{err}");
}

static UNDECLARED_METRIC: MetricSpec = MetricSpec {
    name: "unit_row_things",
    help: "not in the row",
    kind: MetricKind::Counter,
    labels: &[],
};

#[tokio::test]
async fn a_build_using_a_metric_its_row_does_not_declare_is_refused() {
    let meter =
        row(|ctx| async move { ctx.counter(&UNDECLARED_METRIC).map(|_| unreachable!()) }.boxed());
    let err = refused(meter).await;
    assert!(err.contains("unit_row_things"), "{err}");
}

#[test]
fn a_limited_publisher_refuses_an_undeclared_type_at_publish_time() {
    use crate::event::pb::{case_event::Payload, CaseAssigned};
    use crate::event::{CaseEvent, EventType};
    let producer: rdkafka::producer::FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:1")
        .create()
        .expect("producer");
    let kafka = crate::settings::KafkaSettings::default();
    let allowed = [Product::Event(EventType::ExternalTicketChanged)];
    let publisher = EventPublisher::new(producer, &kafka, "unit-row").limited_to(&allowed, None);
    let cause = CaseEvent {
        event_id: "0190f000-0000-7000-8000-0000000000aa".into(),
        ..CaseEvent::default()
    };
    let mut ev = CaseEvent {
        case_id: "c-1".into(),
        payload: Some(Payload::CaseAssigned(CaseAssigned::default())),
        ..CaseEvent::default()
    };
    let err = publisher.stamp_event(Some(&cause), &mut ev).unwrap_err();
    assert!(matches!(err, PublishError::Undeclared { .. }), "{err}");
    assert!(err.to_string().contains("case.assigned"), "{err}");
}
