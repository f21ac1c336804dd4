
$01943b6f-a0b7-7cb1-97f2-5ae0839f8db3case.due_date_changed"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$f9630fe5-228c-43a2-9e83-6794726a0a942PAY:$01943b4c-aef0-7eb6-9569-367d356f21a3BPAY-2HRö„ï»ÀÿŒÍZ÷„ï»À´©¨b:$e8016c34-66b8-4e70-8322-5436b55143c1Barbara Hamiltonjz$01943b6f-a0b7-7cb1-97f2-5ae0839f8db3Š9
700-86b58d6956dbca99817debb850f842fa-04451a2798ec412b-01’
$01943b4c-aef0-7eb6-9569-367d356f21a3PAY-2$f9630fe5-228c-43a2-9e83-6794726a0a94"&Suspicious login burst on auth-service*O**Suspicious login burst** detected on `auth-service`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000001:Open@HR$1e1f3739-092e-4243-9a17-fc8090ebca7cb$e8016c34-66b8-4e70-8322-5436b55143c1j
creation_source	
Monitorj
environments
devj
services
auth-servicej
teams

platformr
business_impact4z„óî»€è­”‚ö„ï»ÀÿŒÍš
2025-01-17º(503412/insight_type_monitor/503412ê
2025-01-17