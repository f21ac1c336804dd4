
$01943b16-8171-7d3d-a81c-2acfdd3e1a14case.watcher_added"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$f9630fe5-228c-43a2-9e83-6794726a0a942PAY:$01943ae8-be87-7e53-9e11-faa3668c01a3BPAY-1HR¦×î»À„ÆzZ¦×î»ÀšûÏb7$5dea8bd6-dcac-46a8-a417-b553b18d1302Dennis Hopperjz$01943b16-8171-7d3d-a81c-2acfdd3e1a14Š9
700-a25962051ef3cdabfde0543584f48754-d3bc054674e0e363-01’§
$01943ae8-be87-7e53-9e11-faa3668c01a3PAY-1$f9630fe5-228c-43a2-9e83-6794726a0a94"Memory leak on case-api*@**Memory leak** detected on `case-api`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000004:Open@HR$1e1f3739-092e-4243-9a17-fc8090ebca7cb$5dea8bd6-dcac-46a8-a417-b553b18d1302j%
creation_source
Event Managementj
environments
prodj
services

case-apij
teams

paymentsr
business_impact3zï¿î»À³ûq‚¦×î»À„Æzº2466026&/insight_type_event_correlation/466026Ê$c0cbaf38-19c8-4de2-a025-7c0cc2177dfcª&
$c0cbaf38-19c8-4de2-a025-7c0cc2177dfc