-- Account attributes over time for BI: which segment, plan, seats and ARR an account had on any day.
select * from {{ ref('int_account_versions_recorded') }}
