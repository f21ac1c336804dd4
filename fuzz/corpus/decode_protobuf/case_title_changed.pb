
$01943b79-d6ba-7ffb-877e-074997d469a2case.title_changed"$5aa2fe53-2450-47b1-9953-bbed1a191576*$8d1aae5e-df29-4865-8abb-399ae9786a302WEB:$01943aef-0e33-7b5b-814a-f11f2605e68dBWEB-1HR”Šï»€µ·IZ”Šï»À£Úbb6$9b09f8d2-b1dd-474d-8ccf-fd2dc60147bfAda Hamiltonjz$01943b79-d6ba-7ffb-877e-074997d469a2Š9
700-8194df718d07efc80863e7e0ad2993f9-56cfdd94bc72be41-01’õ
$01943aef-0e33-7b5b-814a-f11f2605e68dWEB-1$8d1aae5e-df29-4865-8abb-399ae9786a30"2Elevated p99 latency on case-api (customer impact)*O**Certificate expiring** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000005:Resolved@HR$d58e56e3-aa85-4189-a2a4-1f3950b79b64b$9b09f8d2-b1dd-474d-8ccf-fd2dc60147bfj#
creation_source
Error Trackingj
environments	
stagingj,
services 
search-indexer
billing-workerj
teams
datar
business_impact4zŒÃî»Àõä•‚”Šï»€µ·IŠÕî»ÀÏ—«º/824046#/insight_type_error_tracking/824046Ê$a0f051b7-e2db-4754-a322-60d158ace02fª\
&Certificate expiring on search-indexer2Elevated p99 latency on case-api (customer impact)