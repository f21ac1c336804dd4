
$01943aad-ded1-79e1-b50a-1adaf450031dcase.insight_added"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HR‹°Óª¿¸ã§Z›°Óª¿ü´b9$a0f051b7-e2db-4754-a322-60d158ace02fDennis Hamiltonjz$01943aad-ded1-79e1-b50a-1adaf450031dä9
700-9c95618ab4c86e86e977cb3e1cf28fc5-92afc32775f5b369-01íä
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Open@Hb$a0f051b7-e2db-4754-a322-60d158ace02fj$
creation_source
Security Signalj
environments
devj
services
search-indexerj
teams

paymentsz÷ùÓª¿ªŸ∞Ç‹°Óª¿¸ã§∫0827773$/insight_type_security_signal/827773∫/	739227#/insight_type_watchdog_story/739227∫1
/	739227#/insight_type_watchdog_story/739227