
$01943b98-b3e6-7a1f-9ad5-24ab100230e8case.comment_deleted"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$43e10e39-3bfd-4902-8404-727c6f04d35e2OPS:$01943b36-e1ca-7919-a117-01995b35a365BOPS-1HRú™ï»€ƒœ—Zû™ï»ÀÀ{b8$1e1f3739-092e-4243-9a17-fc8090ebca7cGrace Thompsonjz$01943b98-b3e6-7a1f-9ad5-24ab100230e8Š9
700-1fc80a438029beee5bb2e564d1644052-ce80516edf591efd-01’û
$01943b36-e1ca-7919-a117-01995b35a365OPS-1$43e10e39-3bfd-4902-8404-727c6f04d35e""Failed deployments on web-frontend*K**Failed deployments** detected on `web-frontend`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000004:Investigating@Hb$1e1f3739-092e-4243-9a17-fc8090ebca7cj%
creation_source
Event Managementj
environments
devj
services
web-frontendj
teams
searchr
business_impact4zğçî»€Í¤#‚ú™ï»€ƒœ—º2651588&/insight_type_event_correlation/651588¢&
$01943b78-2a09-7cf4-a195-364d353516fc