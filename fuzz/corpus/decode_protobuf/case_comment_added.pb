
$01943aa8-c3d3-7630-ab3f-7771e4d9d743case.comment_added"$5aa2fe53-2450-47b1-9953-bbed1a191576*$d74b3058-fa4f-4f37-a14f-ca063557b1d82NET:$01943aa5-f66f-78ce-a0be-a8b3b22fd77aBNET-1HRéüÓª¿ù·äZéüÓªÄ‚´¬b8$5bc69521-e5d1-4765-bb30-98fa044e0218Dennis Ritchiejz$01943aa8-c3d3-7630-ab3f-7771e4d9d743ä9
700-868a953bf86498e2daafc32cb4736d38-87f6993c2e5ecea2-01íÿ
$01943aa5-f66f-78ce-a0be-a8b3b22fd77aNET-1$d74b3058-fa4f-4f37-a14f-ca063557b1d8"!High error rate on search-indexer*J**High error rate** detected on `search-indexer`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000002:Open@Hb$5bc69521-e5d1-4765-bb30-98fa044e0218j$
creation_source
Security Signalj
environments
devj
services
search-indexerj
teams

paymentsz÷ùÓª¿ªŸ∞ÇéüÓª¿ù·ä∫0827773$/insight_type_security_signal/827773íÖ
$01943aa8-c3d3-718d-8da7-8b6088fcd972$5bc69521-e5d1-4765-bb30-98fa044e02187Root cause looks like a **connection pool** exhaustion.