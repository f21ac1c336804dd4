
$01943af5-b520-73e5-a760-2005f9895dedcase.assigned"$a815f45b-1cc4-4c3c-b05c-fc9b3fc607b1*$f9630fe5-228c-43a2-9e83-6794726a0a942PAY:$01943ae8-be87-7e53-9e11-faa3668c01a3BPAY-1HR¿∆ÓªÄêº˝Z¿∆ÓªÄ•±®b8$1e1f3739-092e-4243-9a17-fc8090ebca7cGrace Thompsonjz$01943af5-b520-73e5-a760-2005f9895dedä9
700-c030aa2ec265aa43c7ae832660799592-f36428516f260612-01íÅ
$01943ae8-be87-7e53-9e11-faa3668c01a3PAY-1$f9630fe5-228c-43a2-9e83-6794726a0a94"Memory leak on case-api*@**Memory leak** detected on `case-api`.

See the linked signals.2$0190a1b2-0000-7000-8000-000000000004:Open@HR$1e1f3739-092e-4243-9a17-fc8090ebca7cb$1e1f3739-092e-4243-9a17-fc8090ebca7cj%
creation_source
Event Managementj
environments
prodj
services

case-apij
teams

paymentsr
business_impact3zÔøÓª¿≥˚qÇ¿∆ÓªÄêº˝∫2466026&/insight_type_event_correlation/466026 ($1e1f3739-092e-4243-9a17-fc8090ebca7c