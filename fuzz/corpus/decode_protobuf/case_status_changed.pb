
$01943aae-4937-74a0-857d-07619cc147f4case.status_changed"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HR¯°Óª¿óﬂ8Z¯°ÓªÄÏ ˇb8$87a6f7c9-685c-4b62-970b-84eb1fccf346Barbara Hopperjz$01943aae-4937-74a0-857d-07619cc147f4ä9
700-00cb9bd79a992492f5eb4b2c982f2a97-ec2bab7e0fe432e0-01íí
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Investigating@Hb$87a6f7c9-685c-4b62-970b-84eb1fccf346j$
creation_source
Security Signalj
environments
devj
services
search-indexerj
teams

paymentsz÷ùÓª¿ªŸ∞Ç¯°Óª¿óﬂ8∫0827773$/insight_type_security_signal/827773∫/	739227#/insight_type_watchdog_story/739227∫
OpenInvestigating 0