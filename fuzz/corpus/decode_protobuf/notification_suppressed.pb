
$01943ab4-84df-75ee-802b-c240675704b8notification.suppressed"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HRê•Óª¿´∏°Zê•Óª¿£Ï÷bNotificationsr$01943aae-4937-74a0-857d-07619cc147f4z$01943aae-4937-74a0-857d-07619cc147f4Ää9
700-d761415deada99db907051b8d647dfd2-bd1b0cbc414e128d-01íí
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Investigating@Hb$87a6f7c9-685c-4b62-970b-84eb1fccf346j$
creation_source
Security Signalj
environments
devj
services
search-indexerj
teams

paymentsz÷ùÓª¿ªŸ∞Ç¯°Óª¿óﬂ8∫0827773$/insight_type_security_signal/827773∫/	739227#/insight_type_watchdog_story/739227˙P
$51812cd4-4e31-4d12-93d6-7b29b471dca7"$01943aae-4937-74a0-857d-07619cc147f4