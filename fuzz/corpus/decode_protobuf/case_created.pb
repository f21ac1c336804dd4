
$01943aa5-f66f-7d47-a163-4684fe45262bcase.created"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HR÷ùÓª¿ªŸ∞Z◊ùÓªÄÊø3b$security signalSecurity Signalj
827773z$01943aa5-f66f-7d47-a163-4684fe45262bä9
700-45e2ed8927845c92d9eb89833170d89b-61858ac65158a0b0-01í£
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Open@Hj$
creation_source
Security Signalj
environments
devj
services
search-indexerj
teams

paymentsz÷ùÓª¿ªŸ∞∫0827773$/insight_type_security_signal/827773¢∑
£
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Open@Hj$
creation_source
Security Signalj
environments
devj
services
search-indexerj
teams

paymentsz÷ùÓª¿ªŸ∞∫0827773$/insight_type_security_signal/827773Security Signal