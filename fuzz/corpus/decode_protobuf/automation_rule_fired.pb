
$01943b3e-98fb-7538-a526-1941b54f58dfautomation_rule.fired"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$43e10e39-3bfd-4902-8404-727c6f04d35e2OPS:$01943b36-e1ca-7919-a117-01995b35a365BOPS-1HRéëî»ÀµàØZéëî»€î¦ìb5$3d96c86d-c7b2-49df-aef5-18e92eefce11Auto-triagejr$01943b36-e1ca-7f16-81ed-ae4ad3cca423z$01943b36-e1ca-7f16-81ed-ae4ad3cca423€Š9
700-494a235af5cb66c214e345edf6d82367-4d82aaadcf259869-01’½
$01943b36-e1ca-7919-a117-01995b35a365OPS-1$43e10e39-3bfd-4902-8404-727c6f04d35e""Failed deployments on web-frontend*K**Failed deployments** detected on `web-frontend`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000004:Open@Hj%
creation_source
Event Managementj
environments
devj
services
web-frontendj
teams
searchr
business_impact4zðçî»€Í¤#º2651588&/insight_type_event_correlation/651588‚a
$3d96c86d-c7b2-49df-aef5-18e92eefce11"triage-security*$01943b36-e1ca-7f16-81ed-ae4ad3cca423