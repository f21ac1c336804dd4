
$01943b20-f672-79de-bc36-6b351a00cdb4case.description_changed"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$2efa42ca-6c04-40b7-b4db-b3c5ca2573cd2SEC:$01943aba-5ee7-74ea-97e2-043c69ae13d0BSEC-1HR”‹ÓªÄÖÊèZ‘‹Óª¿Ô–Ob:$c0cbaf38-19c8-4de2-a025-7c0cc2177dfcFrances Thompsonjz$01943b20-f672-79de-bc36-6b351a00cdb4ä9
700-564d7c4d30d5d098af48e2d686797339-4bf97edd9323efbf-01í±
$01943aba-5ee7-74ea-97e2-043c69ae13d0SEC-1$2efa42ca-6c04-40b7-b4db-b3c5ca2573cd"&Suspicious login burst on web-frontend*JCan someone from the owning team take a look?

Affected: `billing-worker`.2$0190a1b2-0000-7000-8000-000000000004:Open@Hb$c0cbaf38-19c8-4de2-a025-7c0cc2177dfcj%
creation_source
Event Managementj
environments
devj
services
web-frontendj
teams

paymentsr
business_impact2r8
runbook-)https://runbooks.example.com/checkout-apizê®Óª¿œé1Ç”‹ÓªÄÖÊè∫2668927&/insight_type_event_correlation/668927≤ù
O**Suspicious login burst** detected on `web-frontend`.

See the linked signals.JCan someone from the owning team take a look?

Affected: `billing-worker`.