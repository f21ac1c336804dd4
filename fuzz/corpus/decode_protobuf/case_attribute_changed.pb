
$01943abf-fff4-7e28-bb29-a18eee2ffd00case.attribute_changed"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HRÅ´ÓªÄ∂‹ZÅ´Óª¿≤÷µb:$093e1d03-efbb-46c4-a676-1f167279634fBarbara Torvaldsjz$01943abf-fff4-7e28-bb29-a18eee2ffd00ä9
700-1d4faef9f4ecf031d9847d4d3f66627f-a5c6be3e7aa89ef7-01í¢
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Investigating@Hb$093e1d03-efbb-46c4-a676-1f167279634fj$
creation_source
Security Signalj
environments
devj,
services 
search-indexer
billing-workerj
teams

paymentsz÷ùÓª¿ªŸ∞ÇÅ´ÓªÄ∂‹∫0827773$/insight_type_security_signal/827773∫/	739227#/insight_type_watchdog_story/739227⁄
servicesbilling-worker