
$01943b8c-409d-7bf0-a432-bff3631dcbc7case.moved_to_project"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aef-0e33-7b5b-814a-f11f2605e68dBNET-2H
RÊ“ï»Àú¸±ZË“ï»€ëœÉb8$5bc69521-e5d1-4765-bb30-98fa044e0218Dennis Ritchiejz$01943b8c-409d-7bf0-a432-bff3631dcbc7Š9
700-37d501bf685a212c1221c88d04a1cdf8-7c7961fdd71d7023-01’ö
$01943aef-0e33-7b5b-814a-f11f2605e68dNET-2$d74b3058-fa4f-4f37-a14f-ca063557b1d8"2Elevated p99 latency on case-api (customer impact)*O**Certificate expiring** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000005:Resolved@HR$d58e56e3-aa85-4189-a2a4-1f3950b79b64b$5bc69521-e5d1-4765-bb30-98fa044e0218j#
creation_source
Error Trackingj
environments	
stagingj,
services 
search-indexer
billing-workerj
teams
datar
business_impact4zŒÃî»Àõä•‚Ê“ï»Àú¸±ŠÕî»ÀÏ—«º/824046#/insight_type_error_tracking/824046Ê$a0f051b7-e2db-4754-a322-60d158ace02f‚Z
$8d1aae5e-df29-4865-8abb-399ae9786a30$d74b3058-fa4f-4f37-a14f-ca063557b1d8WEB-1"NET-2