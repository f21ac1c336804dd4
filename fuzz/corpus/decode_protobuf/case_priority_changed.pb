
$01943ac9-8b85-7206-832e-863cf790a88bcase.priority_changed"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HRÚØÓª¿Ó¥çZÛØÓª¿”¥b7$befacd17-36a8-48e5-b318-3f2f7f8d7a11Frances Allenjz$01943ac9-8b85-7206-832e-863cf790a88bä9
700-fa7ee019d9436720c510a5148af7a700-79c4e17067047ba2-01íö
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Open@Hb$befacd17-36a8-48e5-b318-3f2f7f8d7a11j$
creation_source
Security Signalj
environments
devj,
services 
search-indexer
billing-workerj
teams

paymentsz÷ùÓª¿ªŸ∞ÇÚØÓª¿Ó¥ç∫0827773$/insight_type_security_signal/827773∫/	739227#/insight_type_watchdog_story/739227¬