
$01943b8b-65ad-7b37-b35f-7411e144b350case.comment_edited"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$43e10e39-3bfd-4902-8404-727c6f04d35e2OPS:$01943b36-e1ca-7919-a117-01995b35a365BOPS-1HR’“ï»À¢ÇšZ““ï»Àóÿ®b7$5dea8bd6-dcac-46a8-a417-b553b18d1302Dennis Hopperjz$01943b8b-65ad-7b37-b35f-7411e144b350Š9
700-1fd1a9cf9f46c9e38de0fe8eb25792a8-15590a18b923b27f-01’ù
$01943b36-e1ca-7919-a117-01995b35a365OPS-1$43e10e39-3bfd-4902-8404-727c6f04d35e""Failed deployments on web-frontend*K**Failed deployments** detected on `web-frontend`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000004:In Progress@Hb$5dea8bd6-dcac-46a8-a417-b553b18d1302j%
creation_source
Event Managementj
environments
devj
services
web-frontendj
teams
searchr
business_impact4zðçî»€Í¤#‚’“ï»À¢Çšº2651588&/insight_type_event_correlation/651588šU
$01943b78-2a09-7cf4-a195-364d353516fc-Customer impact confirmed for `eu1`. (edited)