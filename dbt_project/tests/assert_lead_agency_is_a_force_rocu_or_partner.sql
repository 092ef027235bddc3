{# A valid lead_agency is any force, any ROCU or any partner agency (SPEC section 1). #}
select distinct monthly.lead_agency
from {{ ref('disruptions_monthly') }} as monthly
where monthly.lead_agency not in (
    select force_code from {{ ref('forces') }}
    union all
    select rocu_code from {{ ref('rocus') }}
    union all
    select agency_code from {{ ref('partner_agencies') }}
)
