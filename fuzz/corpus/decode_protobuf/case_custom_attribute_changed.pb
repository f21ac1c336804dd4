
$01943ad3-76ba-7617-a389-9b04c30d6573case.custom_attribute_changed"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$2efa42ca-6c04-40b7-b4db-b3c5ca2573cd2SEC:$01943aba-5ee7-74ea-97e2-043c69ae13d0BSEC-1HRü´î»€•‡ŸZı´î»€À„=b7$5dea8bd6-dcac-46a8-a417-b553b18d1302Dennis Hopperjz$01943ad3-76ba-7617-a389-9b04c30d6573Š9
700-ff428fdafd90c14309ed72b60c118ed9-2126b9c78d5fc526-01’œ
$01943aba-5ee7-74ea-97e2-043c69ae13d0SEC-1$2efa42ca-6c04-40b7-b4db-b3c5ca2573cd"&Suspicious login burst on web-frontend*O**Suspicious login burst** detected on `web-frontend`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000004:Open@Hb$5dea8bd6-dcac-46a8-a417-b553b18d1302j%
creation_source
Event Managementj
environments
devj
services
web-frontendj
teams

paymentsr8
runbook-)https://runbooks.example.com/checkout-apiz¨î»ÀÏ1‚ü´î»€•‡Ÿº2668927&/insight_type_event_correlation/668927â:
runbook"-)https://runbooks.example.com/checkout-api